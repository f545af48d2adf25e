/**
 * `pty-mcp audit init|enable|disable|serve|verify` (SPEC §1, §6). `main` gets
 * the arguments after `audit` and resolves to the exit code: 0 done, 1 refused
 * or failed (message on stderr), 2 usage error.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { startCollector } from "../audit/collector.ts";
import { verifyChainFile } from "../audit/chain.ts";
import { defaultAuditUser, expandHome, parseAuditMode } from "../audit/config.ts";
import { commentOutKey, type Env, parseConfig, primaryConfigPath, readConfigFile, setConfigValue, uncommentKey, writeConfigFile } from "../config-file.ts";
import { PtyError, errorMessage } from "../errors.ts";

const usage = `Usage:
  pty-mcp audit init [--force] [--audit-url URL] [--audit-user NAME] [--audit-mode best-effort|strict] [--audit-log FILE]
                       write ${"~/.config/pty-mcp/config"} (0600) with a new random token
  pty-mcp audit enable                turn audit on (runs init first when there is no config)
  pty-mcp audit disable               turn audit off (keeps the config and token)
  pty-mcp audit serve --log FILE [--port 8080] [--host 127.0.0.1]
                       HTTP collector: POST /audit with the config's token (or PTY_MCP_AUDIT_TOKEN)
  pty-mcp audit verify FILE           check a JSONL audit file's hash chain
`;

const PLACEHOLDER_URL = "http://your-collector:9099";

export async function main(args: string[], env: Env = process.env): Promise<number> {
  const [command, ...rest] = args;
  try {
    switch (command) {
      case "init":
        return init(rest, env);
      case "enable":
        return enable(rest, env);
      case "disable":
        return disable(rest, env);
      case "serve":
        return await serve(rest, env);
      case "verify":
        return await verify(rest);
      case undefined:
      case "help":
      case "--help":
      case "-h":
        process.stderr.write(usage);
        return command === undefined ? 2 : 0;
      default:
        process.stderr.write(`pty-mcp audit: unknown command "${command}"\n${usage}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`pty-mcp audit ${command}: ${err.message}\n${usage}`);
      return 2;
    }
    process.stderr.write(`pty-mcp audit ${command}: ${errorMessage(err)}\n`);
    return 1;
  }
}

class UsageError extends Error {}

/** parseArgs, with its complaints turned into usage errors (exit 2). */
function parse<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    throw new UsageError(errorMessage(err));
  }
}

function init(args: string[], env: Env): number {
  const { values } = parse({
    args,
    options: {
      force: { type: "boolean" },
      "audit-url": { type: "string" },
      "audit-user": { type: "string" },
      "audit-mode": { type: "string" },
      "audit-log": { type: "string" },
    },
  });
  const path = primaryConfigPath(env);
  if (!values.force && readConfigFileAt(path, env)) {
    process.stderr.write(`Config already exists: ${path}\nUse --force to overwrite it (a new token is generated).\n`);
    return 1;
  }
  const mode = parseAuditMode(values["audit-mode"] ?? "best-effort", "--audit-mode");
  const url = values["audit-url"];
  if (url !== undefined && !/^https?:\/\//.test(url)) throw new UsageError(`--audit-url must start with http:// or https://, got "${url}"`);
  const token = randomBytes(32).toString("hex");
  const log = values["audit-log"];
  const text = [
    "# pty-mcp audit configuration (must stay chmod 600: it holds the token)",
    "",
    "# Collector URL: entries are POSTed to <url>/audit",
    url === undefined ? `# audit-url=${PLACEHOLDER_URL}` : `audit-url=${url}`,
    "",
    "# Local JSONL file with a hash chain (pty-mcp audit verify FILE checks it)",
    log === undefined ? "# audit-log=~/.local/state/pty-mcp/audit.jsonl" : `audit-log=${log}`,
    "",
    "# Your identity in the audit log",
    `audit-user=${values["audit-user"] ?? defaultAuditUser(env)}`,
    "",
    "# best-effort: queue and retry, never block input",
    "# strict: refuse input (AUDIT_REJECTED) when the entry cannot be delivered",
    `audit-mode=${mode}`,
    "",
    "# Shared token: give it only to whoever runs the collector",
    `audit-token=${token}`,
    "",
    "audit-enabled=true",
    "",
  ].join("\n");
  writeConfigFile(path, text);
  process.stdout.write(
    `Created: ${path}\n\n` +
      (url === undefined && log === undefined ? `Set audit-url (a collector) or audit-log (a local file) in it, then restart the MCP client.\n\n` : "") +
      `To run a collector with this token:\n` +
      `  PTY_MCP_AUDIT_TOKEN=$(sed -n 's/^audit-token=//p' ${path}) \\\n` +
      `    pty-mcp audit serve --port 9099 --log /var/log/pty-mcp-audit.jsonl\n`,
  );
  return 0;
}

/** The primary file only: init/enable/disable edit it, never a fallback. */
function readConfigFileAt(path: string, env: Env): string | undefined {
  const file = readConfigFile(env);
  if (file === undefined || file.path !== path) return undefined;
  return readFileSync(path, "utf8");
}

function enable(args: string[], env: Env): number {
  parse({ args, options: {} });
  const path = primaryConfigPath(env);
  const current = readConfigFileAt(path, env);
  if (current === undefined) {
    const code = init([], env);
    if (code !== 0) return code;
    process.stdout.write(`\nEdit audit-url or audit-log in ${path}, then run "pty-mcp audit enable" again.\n`);
    return 1;
  }
  const uncommented = uncommentKey(current, "audit-url");
  // The placeholder init writes stays commented out: enabling it would send every entry nowhere.
  const placeholder = uncommented.value === PLACEHOLDER_URL;
  const url = placeholder ? undefined : uncommented.value;
  const text = setConfigValue(placeholder ? current : uncommented.text, "audit-enabled", "true");
  const log = parseConfig(text, path).get("audit-log") || undefined;
  if (url === undefined && log === undefined) {
    writeConfigFile(path, text);
    process.stderr.write(`Audit has no destination: set audit-url=… or audit-log=… in ${path}.\n`);
    return 1;
  }
  writeConfigFile(path, text);
  process.stdout.write(`Audit enabled (${[url && `collector ${url}`, log && `file ${log}`].filter(Boolean).join(", ")}). Restart the MCP client to apply.\n`);
  return 0;
}

function disable(args: string[], env: Env): number {
  parse({ args, options: {} });
  const path = primaryConfigPath(env);
  const current = readConfigFileAt(path, env);
  if (current === undefined) {
    process.stdout.write("No config found: audit is not configured.\n");
    return 0;
  }
  // audit-enabled=false is ours; commenting out audit-url is what the Go original
  // understands, so a config shared with it is off for both.
  writeConfigFile(path, setConfigValue(commentOutKey(current, "audit-url"), "audit-enabled", "false"));
  process.stdout.write("Audit disabled (config and token kept). Restart the MCP client to apply.\n");
  return 0;
}

async function serve(args: string[], env: Env): Promise<number> {
  const { values } = parse({
    args,
    options: {
      port: { type: "string", default: "8080" },
      host: { type: "string", default: "127.0.0.1" },
      log: { type: "string" },
    },
  });
  if (values.log === undefined) throw new UsageError("--log FILE is required");
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0-65535, got "${values.port}"`);
  const token = env.PTY_MCP_AUDIT_TOKEN || readConfigFile(env)?.values.get("audit-token");
  if (!token) {
    throw new PtyError("INVALID_ARGUMENT", `no token: set PTY_MCP_AUDIT_TOKEN or audit-token in ${primaryConfigPath(env)} ("pty-mcp audit init" makes one).`);
  }
  const logPath = expandHome(values.log, { ...env, HOME: env.HOME ?? process.cwd() });
  const collector = startCollector({ hostname: values.host, port, token, logPath });
  process.stderr.write(`pty-mcp audit: listening on ${collector.url} (POST /audit), appending to ${logPath}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  await collector.stop();
  process.stderr.write("pty-mcp audit: stopped\n");
  return 0;
}

async function verify(args: string[]): Promise<number> {
  const { positionals } = parse({ args, options: {}, allowPositionals: true });
  const [file, extra] = positionals;
  if (file === undefined) throw new UsageError("FILE is required");
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}"`);
  let result;
  try {
    result = await verifyChainFile(file);
  } catch (err) {
    process.stderr.write(`pty-mcp audit verify: cannot read ${file}: ${errorMessage(err)}\n`);
    return 2;
  }
  if (result.ok) {
    process.stdout.write(`ok ${result.entries} entries\n`);
    return 0;
  }
  process.stdout.write(`${file}:${result.line}: ${result.reason}\n`);
  process.stdout.write(`broken at line ${result.line}; the ${result.entries} entries before it are intact\n`);
  return 1;
}
