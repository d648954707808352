/** An error from the operating system (or Node's fs layer): it has a code such as `ENOENT`. */
export function isSystemError(error: unknown): error is NodeJS.ErrnoException & { code: string } {
  const code = error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
  // Libraries set codes of their own (`commander.helpDisplayed`): only errno names and Node's fs ones count.
  return typeof code === 'string' && /^(E[A-Z0-9]+|ERR_FS_\w+|ERR_STRING_TOO_LONG)$/.test(code);
}

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large (a file-size limit)',
  EROFS: 'read-only file system',
  ELOOP: 'too many levels of symbolic links',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  ENAMETOOLONG: 'file name too long',
  EIO: 'input/output error',
  EXDEV: 'crosses file systems',
  EBUSY: 'resource busy',
  ETXTBSY: 'text file busy',
  ENXIO: 'no such device or address',
  ENODEV: 'no such device',
  EPIPE: 'broken pipe',
  EADDRINUSE: 'address in use',
  EADDRNOTAVAIL: 'address not available',
  ERR_FS_FILE_TOO_LARGE: 'too large to read into memory',
  ERR_STRING_TOO_LONG: 'too large to hold as text',
};

/** The OS's reason in words a person reads (`permission denied`), or its code and message. */
export function osReason(error: unknown): string {
  if (!isSystemError(error)) return error instanceof Error ? error.message : String(error);
  return REASONS[error.code] ?? `${error.code}: ${error.message.replace(/^\w+: /, '')}`;
}
