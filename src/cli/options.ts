// One option parser for the daemon-side commands (client, daemon, sessions, attach): flags,
// `--name VALUE` / `--name=VALUE` options, positional words, --help. Anything else is an error
// with the usage (exit 2); --help prints the usage (exit 0).
import { defaultSocketPath } from "../daemon/socket-path.ts";

export interface OptionSpec<F extends string, V extends string> {
  /** Flags without a value, by name: `{ json: ["--json"] }`. */
  flags?: Record<F, readonly string[]>;
  /** Options with a value, by name, and what a value must look like. */
  values?: Record<V, { names: readonly string[]; valid?: RegExp }>;
  /** How many positional words are allowed (attach ID). */
  positionals?: number;
}

export interface ParsedOptions<F extends string, V extends string> {
  flags: Record<F, boolean>;
  values: Partial<Record<V, string>>;
  positionals: string[];
}

/** `--socket PATH`, shared by every command that talks to the daemon. */
export const SOCKET_OPTION = { socket: { names: ["--socket"] } } as const;

/** Parses `args`; on --help or a bad argument writes the usage and returns the exit status instead. */
export function parseOptions<F extends string = never, V extends string = never>(command: string, usage: string, args: readonly string[], spec: OptionSpec<F, V>): ParsedOptions<F, V> | number {
  const flags = Object.fromEntries(Object.keys(spec.flags ?? {}).map((name) => [name, false])) as Record<F, boolean>;
  const values: Partial<Record<V, string>> = {};
  const positionals: string[] = [];
  const flagEntries = Object.entries(spec.flags ?? {}) as Array<[F, readonly string[]]>;
  const valueEntries = Object.entries(spec.values ?? {}) as Array<[V, { names: readonly string[]; valid?: RegExp }]>;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--help" || arg === "-h") {
      process.stdout.write(usage);
      return 0;
    }
    const flag = flagEntries.find(([, names]) => names.includes(arg));
    if (flag) {
      flags[flag[0]] = true;
      continue;
    }
    const option = valueEntries.find(([, o]) => o.names.includes(arg) || o.names.some((n) => arg.startsWith(`${n}=`)));
    if (option) {
      const [name, o] = option;
      const inline = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : undefined;
      const value = inline ?? args[i + 1];
      if (value && (!o.valid || o.valid.test(value))) {
        values[name] = value;
        if (inline === undefined) i++;
        continue;
      }
    } else if (!arg.startsWith("-") && positionals.length < (spec.positionals ?? 0)) {
      positionals.push(arg);
      continue;
    }
    process.stderr.write(`pty-mcp ${command}: unexpected argument ${JSON.stringify(arg)}\n${usage}`);
    return 2;
  }
  return { flags, values, positionals };
}

/** The daemon socket a command was pointed at (default: defaultSocketPath()). */
export function socketPathOf(values: { socket?: string }): string {
  return values.socket ?? defaultSocketPath();
}
