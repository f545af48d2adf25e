// SSH authentication in OpenSSH's order: agent (filtered by IdentitiesOnly), identity files
// (encrypted ones with a passphrase given or asked of the human), password, keyboard-interactive.
import { existsSync, readFileSync } from "node:fs";
import type { AnyAuthMethod, AuthenticationType, IdentityCallback, ParsedKey, Prompt } from "ssh2";
import type { SshTarget } from "./config.ts";
import { lib, type Ssh2 } from "./ssh2.ts";

/** The secrets auth may use (SshSessionOptions has them). */
export interface AuthSecrets {
  password?: string;
  passphrase?: string;
  askPassphrase?: (keyFile: string) => Promise<string | undefined>;
}

export interface AuthStep {
  /** Shown in SSH_AUTH_FAILED's "tried" list; never contains a secret. */
  label: string;
  type: AuthenticationType;
  make(username: string): AnyAuthMethod | Promise<AnyAuthMethod | undefined> | undefined;
}

/** Auth in OpenSSH's order; secrets only flow into ssh2, never into labels. */
export function authSteps(hop: SshTarget, options: AuthSecrets, isFinal: boolean, skipped: string[]): AuthStep[] {
  const steps: AuthStep[] = [];
  const agentSocket = hop.identityAgent ?? process.env.SSH_AUTH_SOCK;
  if (hop.pubkeyAuthentication && agentSocket !== undefined && agentSocket !== "none" && agentSocket.length > 0 && existsSync(agentSocket)) {
    const filter = hop.identitiesOnly ? publicKeysOf(hop.identityFiles) : undefined;
    steps.push({
      label: "publickey (agent)",
      type: "agent",
      make: (username) => ({ type: "agent", username, agent: filter === undefined ? agentSocket : filteredAgent(agentSocket, filter) }),
    });
  }
  if (hop.pubkeyAuthentication) {
    for (const file of hop.identityFiles) {
      if (!existsSync(file)) continue;
      steps.push({
        label: `publickey (${file})`,
        type: "publickey",
        make: (username) =>
          loadIdentity(file, options).then((loaded) => {
            if ("skip" in loaded) {
              skipped.push(`${file} (${loaded.skip})`);
              return undefined;
            }
            return { type: "publickey", username, key: loaded.key };
          }),
      });
    }
  }
  // A password is for the destination; jump hosts authenticate with keys (as `ssh -J` does non-interactively).
  const password = isFinal ? options.password : undefined;
  if (password !== undefined) {
    if (hop.passwordAuthentication) steps.push({ label: "password", type: "password", make: (username) => ({ type: "password", username, password }) });
    if (hop.kbdInteractiveAuthentication)
      steps.push({
        label: "keyboard-interactive",
        type: "keyboard-interactive",
        make: (username) => ({
          type: "keyboard-interactive",
          username,
          prompt: (_name: string, _instructions: string, _lang: string, prompts: Prompt[], finish: (answers: string[]) => void) => {
            // Answer echo-off prompts (the password question) with the password, others empty.
            finish(prompts.map((p) => (p.echo === true ? "" : password)));
          },
        }),
      });
  }
  return steps;
}

async function loadIdentity(file: string, options: AuthSecrets): Promise<{ key: ParsedKey } | { skip: string }> {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    return { skip: `unreadable: ${(err as NodeJS.ErrnoException).code ?? "error"}` };
  }
  const plain = lib().utils.parseKey(data);
  if (!(plain instanceof Error)) return plain.isPrivateKey() ? { key: plain } : { skip: "not a private key" };
  if (!/encrypted|passphrase/i.test(plain.message)) return { skip: "unsupported key format" };
  let passphrase = options.passphrase;
  if (passphrase === undefined && options.askPassphrase !== undefined) {
    try {
      passphrase = await options.askPassphrase(file);
    } catch (err) {
      // Say why the human was not asked (no dialog, cancelled, timed out); the message holds no secret.
      const why = (err instanceof Error ? err.message : String(err)).split(/(?<=\.) /)[0] ?? "";
      return { skip: `encrypted, asking for the passphrase failed: ${why.replace(/\.$/, "")}` };
    }
  }
  if (passphrase === undefined) return { skip: "encrypted, no passphrase given" };
  const key = lib().utils.parseKey(data, passphrase);
  // ssh2 reports a wrong passphrase as a decrypt/parse error; never echo the passphrase.
  if (key instanceof Error) return { skip: "encrypted, passphrase did not decrypt it" };
  return { key };
}

function publicKeysOf(files: readonly string[]): Buffer[] {
  const keys: Buffer[] = [];
  for (const file of files) {
    for (const candidate of [`${file}.pub`, file]) {
      try {
        const parsed = lib().utils.parseKey(readFileSync(candidate));
        if (!(parsed instanceof Error)) {
          keys.push(parsed.getPublicSSH());
          break;
        }
      } catch {
        // Missing file: next candidate.
      }
    }
  }
  return keys;
}

/** `IdentitiesOnly yes`: offer only the agent keys that match the configured identity files (ssh_config(5)). */
function filteredAgent(socketPath: string, allowed: Buffer[]) {
  const FilteredAgent = filteredAgentClass();
  return new FilteredAgent(socketPath, allowed);
}

let filteredAgentClassCache: ReturnType<typeof makeFilteredAgentClass> | undefined;
function filteredAgentClass() {
  filteredAgentClassCache ??= makeFilteredAgentClass(lib());
  return filteredAgentClassCache;
}

function makeFilteredAgentClass({ OpenSSHAgent }: Ssh2) {
  return class FilteredAgent extends OpenSSHAgent {
  readonly #allowed: Buffer[];
  constructor(socketPath: string, allowed: Buffer[]) {
    super(socketPath);
    this.#allowed = allowed;
  }
  override getIdentities(cb: IdentityCallback<ParsedKey>): void {
    super.getIdentities((err, keys) => {
      if (err || keys === undefined) return cb(err ?? new Error("agent returned no keys"));
      const parsed = keys.filter((k): k is ParsedKey => "getPublicSSH" in k);
      cb(undefined, parsed.filter((k) => this.#allowed.some((a) => a.equals(k.getPublicSSH()))));
    });
  }
  };
}
