/** A static http server on 127.0.0.1 for the web demo and the browser tests (module scripts need http, not file://). */
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { extname } from "node:path";

const TYPES: Record<string, string> = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".gz": "application/gzip" };

/** Serves the given files (path → contents; "/" is "/index.html") on 127.0.0.1; port 0 = any free port. */
export async function serve(files: Record<string, string | Uint8Array>, port = 0): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname.replace(/\/$/, "/index.html");
    const body = files[path];
    if (body === undefined) return void res.writeHead(404, { "content-type": "text/plain" }).end(`${path}: not found`);
    res.writeHead(200, { "content-type": TYPES[extname(path)] ?? "application/octet-stream" }).end(body);
  });
  await new Promise<void>((done, fail) => server.once("error", fail).listen(port, "127.0.0.1", done));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}
