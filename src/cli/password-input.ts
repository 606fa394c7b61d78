/**
 * Reads a password for a CLI without putting it on the command line (where `ps` and shell history see it):
 * - stdin is a TTY → prompts on stderr with echo off (raw mode; Backspace edits, Ctrl-C / Ctrl-D abort), twice
 *   when `confirm` is set (the two must match);
 * - otherwise (piped) → the whole of stdin, minus ONE trailing newline (`echo pw | …` and `printf pw | …` agree).
 * @throws Error when aborted, when the confirmation differs, or when stdin is empty.
 */
export async function readPassword(o: { prompt: string; confirm?: string } = { prompt: 'Password: ' }): Promise<string> {
  if (!process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(Buffer.from(c));
    const text = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
    if (!text) throw new Error('no password on stdin');
    return text;
  }
  const first = await promptHidden(o.prompt);
  if (o.confirm && (await promptHidden(o.confirm)) !== first) throw new Error('the passwords do not match');
  return first;
}

function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let value = '';
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (s: string) => {
      for (const ch of s) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003' || ch === '\u0004') return done(new Error('aborted'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.on('data', onData);
  });
}
