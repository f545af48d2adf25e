// Loopback HTTP servers for installer tests: one serving a release directory (like a GitHub
// release's download URL), one that accepts connections and never answers (an unreachable mirror).
import type { Server, TCPSocketListener, Socket } from "bun";
import { join, normalize } from "node:path";

export interface ReleaseServer extends AsyncDisposable {
  /** `http://127.0.0.1:<port>` (OS-assigned port). */
  readonly url: string;
  /** Paths requested so far, in order (e.g. "/SHA256SUMS"). */
  readonly requests: readonly string[];
  close(): Promise<void>;
}

/**
 * Serves the files of `dir` read-only over HTTP on 127.0.0.1; missing files are 404.
 * `beforeServe` may hold a response back (a download that is still under way).
 */
export function serveDirectory(dir: string, options: { beforeServe?: (path: string) => Promise<void> } = {}): ReleaseServer {
  const requests: string[] = [];
  const server: Server<undefined> = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const path = decodeURIComponent(new URL(request.url).pathname);
      requests.push(path);
      const rel = normalize(path).replace(/^\/+/, "");
      if (rel.startsWith("..") || rel.includes("/")) return new Response("not found\n", { status: 404 });
      const file = Bun.file(join(dir, rel));
      if (!(await file.exists())) return new Response("not found\n", { status: 404 });
      await options.beforeServe?.(path);
      return new Response(file);
    },
  });
  const close = async (): Promise<void> => {
    await server.stop(true);
  };
  return { url: `http://127.0.0.1:${server.port}`, requests, close, [Symbol.asyncDispose]: close };
}

export interface StallServer extends AsyncDisposable {
  readonly url: string;
  /** Connections accepted so far (each download attempt opens one). */
  readonly connections: number;
  /** Connections still open (a killed client's closes). */
  readonly open: number;
  close(): Promise<void>;
}

/** Accepts TCP connections on 127.0.0.1 and never sends a byte, so clients hit their timeouts. */
export function stallServer(): StallServer {
  const sockets = new Set<Socket<undefined>>();
  let connections = 0;
  const listener: TCPSocketListener<undefined> = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        connections++;
        sockets.add(socket);
      },
      data() {},
      close(socket) {
        sockets.delete(socket);
      },
    },
  });
  const close = async (): Promise<void> => {
    for (const socket of sockets) socket.end();
    listener.stop(true);
  };
  return {
    url: `http://127.0.0.1:${listener.port}`,
    get connections() {
      return connections;
    },
    get open() {
      return sockets.size;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
