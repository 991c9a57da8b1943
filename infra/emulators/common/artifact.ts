/**
 * A function artifact as the emulators run it: a deployment zip unpacked into a private temp folder
 * (as the platforms do into /var/task), or a folder used in place.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yauzl from 'yauzl';
import { EmulatorErrors } from '../../errors';

export interface PreparedArtifact {
  /** Folder holding the function code (the task root). */
  dir: string;
  /** Removes the unpacked copy (a folder artifact is left alone). */
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
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'beehive-fn-'));
  try {
    await unzip(abs, dir);
  } catch (err) {
    await fs.promises.rm(dir, { recursive: true, force: true });
    throw EmulatorErrors.ARTIFACT(`${spec} is not a readable zip: ${(err as Error).message}`, { cause: err });
  }
  return { dir, cleanup: () => fs.promises.rm(dir, { recursive: true, force: true }) };
}

/** Extracts every entry of `zipFile` under `dest`, refusing paths that escape it. */
export function unzip(zipFile: string, dest: string): Promise<void> {
  return new Promise((resolve, reject) => {
    yauzl.open(zipFile, { lazyEntries: true, autoClose: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error('cannot open zip'));
      zip.on('error', reject);
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        const target = path.resolve(dest, entry.fileName);
        if (target !== dest && !target.startsWith(dest + path.sep)) {
          zip.close();
          return reject(new Error(`entry ${entry.fileName} escapes the artifact folder`));
        }
        if (entry.fileName.endsWith('/')) {
          fs.mkdirSync(target, { recursive: true });
          return zip.readEntry();
        }
        fs.mkdirSync(path.dirname(target), { recursive: true });
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e ?? new Error('cannot read entry'));
          // Keep the executable bit: native helpers and bootstrap scripts need it.
          const mode = (entry.externalFileAttributes >>> 16) & 0o777;
          const out = fs.createWriteStream(target, { mode: mode || 0o644 });
          stream.on('error', reject);
          out.on('error', reject);
          out.on('finish', () => zip.readEntry());
          stream.pipe(out);
        });
      });
      zip.readEntry();
    });
  });
}
