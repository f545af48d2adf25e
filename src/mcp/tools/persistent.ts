// The persistent-session code (the daemon client with its zod protocol and node:net, mirrors, the
// link over SSH) is imported by the first call that needs it, not with the tools: a server with only
// in-process sessions never holds it — ~20k heap objects fewer for every full collection Bun runs
// while the server idles (bench M3). Its first use starts or reaches a daemon, far slower than the import.
export const localLink = () => import("../../persistent/local-link.ts");
export const sshLink = () => import("../../persistent/ssh-link.ts");
export const mirrors = () => import("../../persistent/mirror.ts");
