export async function serveAdmin(_req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, _path: string): Promise<void> {
  res.writeHead(404).end();
}
