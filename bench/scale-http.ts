import { Agent, request } from 'node:http';

// The scale benchmark's HTTP: Node's plain keep-alive client, nothing on top, so the registry's
// own pace is what the floor measures and the fixture push is bounded by the registry alone.

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export function keepAliveAgent(connections: number): Agent {
  return new Agent({ keepAlive: true, maxSockets: connections });
}

/** One request; the body is read whole (tag lists and manifests are small). */
export function send(
  agent: Agent,
  method: string,
  url: string,
  options: { headers?: Record<string, string>; body?: Buffer } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers: options.headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.once('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }),
      );
      response.once('error', reject);
    });
    req.once('error', reject);
    req.end(options.body);
  });
}

/** Like `send`, but another status than `expected` throws naming the request. */
export async function expectStatus(
  expected: number,
  agent: Agent,
  method: string,
  url: string,
  options: { headers?: Record<string, string>; body?: Buffer } = {},
): Promise<Answer> {
  const answer = await send(agent, method, url, options);
  if (answer.status !== expected)
    throw new Error(`${method} ${url}: HTTP ${answer.status} ${answer.body.toString('utf8').slice(0, 300)}`);
  return answer;
}
