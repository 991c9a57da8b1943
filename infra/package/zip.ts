/** Writes an artifact zip with yazl: sorted entries and a fixed mtime, so the same input gives the same bytes. */
import fs from 'node:fs';
import path from 'node:path';
import yazl from 'yazl';

export type ZipEntry = { path: string; mode: number } & ({ abs: string } | { data: Buffer });

const MTIME = new Date('2020-01-01T00:00:00Z');

export async function writeZip(out: string, entries: ZipEntry[]): Promise<number> {
  await fs.promises.mkdir(path.dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  const zip = new yazl.ZipFile();
  for (const e of [...entries].sort((a, b) => a.path.localeCompare(b.path))) {
    const opts = { mtime: MTIME, mode: 0o100000 | (e.mode & 0o777 || 0o644) };
    if ('abs' in e) zip.addFile(e.abs, e.path, opts);
    else zip.addBuffer(e.data, e.path, opts);
  }
  zip.end();
  await new Promise<void>((resolve, reject) => {
    const ws = fs.createWriteStream(tmp);
    zip.outputStream.on('error', reject).pipe(ws).on('error', reject).on('close', () => resolve());
  });
  await fs.promises.rename(tmp, out);
  return (await fs.promises.stat(out)).size;
}
