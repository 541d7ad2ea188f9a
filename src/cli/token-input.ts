/** A token given as `-` is read from stdin, which keeps it out of the process list and the shell history. */
export async function readTokenArgument(value: string): Promise<string> {
  if (value !== '-') return value;
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}
