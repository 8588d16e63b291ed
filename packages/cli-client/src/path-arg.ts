// A path as a person gives it to /file, /accept or the save question: typed, or dropped from a file
// manager, which writes it as a shell would read it ('/home/me/My File.pdf', /home/me/My\ File.pdf,
// "C:\Users\me\My File.pdf").
import { homedir } from 'node:os';
import { resolve } from 'node:path';

/**
 * The absolute path meant by `text`: one pair of quotes around it is taken off (inside them every
 * character is itself); unquoted, a backslash makes the next character itself (`My\ File`), except
 * on Windows where it separates folders; `~` at the start is the home folder. A relative path is
 * from where hush was started.
 */
export function pathArg(text: string, home: string = homedir(), platform: NodeJS.Platform = process.platform): string {
  const trimmed = text.trim();
  const quoted = /^(['"])(.*)\1$/s.exec(trimmed);
  const plain = quoted ? quoted[2]! : platform === 'win32' ? trimmed : trimmed.replace(/\\(.)/gs, '$1');
  return resolve(plain.replace(/^~(?=$|[\\/])/, home));
}
