/**
 * A function artifact as the emulators run it: a deployment zip unpacked into a temp folder keyed
 * by its content (as the platforms do into /var/task), or a folder used in place.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yauzl from 'yauzl';
import { EmulatorErrors } from '../../errors';

export interface PreparedArtifact {
  /** Folder holding the function code (the task root). */
  dir: string;
  /** Releases the artifact (unpacked copies stay cached by content hash in the temp folder). */
  cleanup(): Promise<void>;
}

export async function prepareArtifact(spec: string): Promise<PreparedArtifact> {
  const abs = path.resolve(spec);
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(abs);
  } catch (err) {
    throw EmulatorErrors.ARTIFACT(`${spec} does not exist`, { cause: err });
  }
  if (st.isDirectory()) return { dir: abs, cleanup: async () => {} };
  // Unpacked once per content: packaging is deterministic, so an unchanged app reuses its folder
  // (unpacking thousands of small files is the slow part of starting an emulator).
  const hash = createHash('sha256').update(await fs.promises.readFile(abs)).digest('hex').slice(0, 24);
  const cacheDir = path.join(os.tmpdir(), 'beehive-artifacts');
  const dir = path.join(cacheDir, hash);
  if (fs.existsSync(path.join(dir, '.complete'))) return { dir, cleanup: async () => {} };
  await fs.promises.mkdir(cacheDir, { recursive: true });
  const tmp = await fs.promises.mkdtemp(path.join(cacheDir, `${hash}-`));
  try {
    await unzip(abs, tmp);
    await fs.promises.writeFile(path.join(tmp, '.complete'), '');
  } catch (err) {
    await fs.promises.rm(tmp, { recursive: true, force: true });
    throw EmulatorErrors.ARTIFACT(`${spec} is not a readable zip: ${(err as Error).message}`, { cause: err });
  }
  try {
    await fs.promises.rename(tmp, dir);
  } catch {
    // Another emulator unpacked the same artifact first: use its copy.
    await fs.promises.rm(tmp, { recursive: true, force: true });
  }
  return { dir, cleanup: async () => {} };
}

/** Extracts every entry of `zipFile` under `dest`, refusing paths that escape it. */
export function unzip(zipFile: string, dest: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const made = new Set<string>();
    yauzl.open(zipFile, { lazyEntries: true, autoClose: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? EmulatorErrors.ARTIFACT('cannot open zip'));
      zip.on('error', reject);
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        const target = path.resolve(dest, entry.fileName);
        if (target !== dest && !target.startsWith(dest + path.sep)) {
          zip.close();
          return reject(EmulatorErrors.ARTIFACT(`entry ${entry.fileName} escapes the artifact folder`));
        }
        if (entry.fileName.endsWith('/')) {
          fs.mkdirSync(target, { recursive: true });
          return zip.readEntry();
        }
        const dir = path.dirname(target);
        if (!made.has(dir)) fs.mkdirSync(dir, { recursive: true }), made.add(dir);
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e ?? EmulatorErrors.ARTIFACT('cannot read entry'));
          // Buffered and written at once: a write stream per file costs more than the inflate.
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('error', reject);
          stream.on('end', () => {
            try {
              // Keep the executable bit: native helpers and bootstrap scripts need it.
              const mode = (entry.externalFileAttributes >>> 16) & 0o777;
              fs.writeFileSync(target, Buffer.concat(chunks), { mode: mode || 0o644 });
            } catch (err) {
              return reject(err);
            }
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}
