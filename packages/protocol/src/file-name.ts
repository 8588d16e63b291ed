/**
 * Why a receiver could not save a file under `name`, in words; undefined when the name is usable.
 * The server applies it to a room file's offer; clients to a direct file's name from its envelope
 * (the server never sees that one).
 */
export function fileNameProblem(name: string): string | undefined {
  const trimmed = name.trim();
  if (trimmed === '') return 'the file name is empty';
  if (/^\.+$/.test(trimmed)) return 'the file name cannot be only dots';
  if (/[/\\]/.test(name)) return 'the file name cannot contain / or \\';
  if (/[\p{Cc}\p{Cs}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u.test(name)) {
    return 'the file name cannot contain control or text-direction characters';
  }
  return undefined;
}
