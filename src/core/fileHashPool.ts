import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/**
 * The worker's whole program (evaluated from a string, so that it runs the same from `dist/` and under vitest).
 * It reads a file (1 MiB at a time) and answers with its digest; one request at a time per worker.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { createReadStream } = require('node:fs');
parentPort.on('message', ({ id, file, algorithm }) => {
  const hash = createHash(algorithm);
  const stream = createReadStream(file, { highWaterMark: 1 << 20 });
  stream.on('data', (chunk) => hash.update(chunk));
  stream.on('end', () => parentPort.postMessage({ id, digest: hash.digest('hex') }));
  stream.on('error', (e) => parentPort.postMessage({ id, error: String(e.message), code: e.code }));
});
`;

interface Job {
  readonly id: number;
  readonly file: string;
  readonly algorithm: string;
  readonly resolve: (hex: string) => void;
  readonly reject: (e: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  job: Job | undefined;
}

type Reply = { id: number; digest: string } | { id: number; error: string; code?: string };

/**
 * Hashes files in worker threads, so that hashing (MD5 runs at ~600 MB/s on one core) never holds the main
 * thread, which keeps receiving while files are verified. Jobs queue when every worker is busy.
 *
 * @example
 * const pool = new FileHashPool();
 * const md5 = await pool.digest('/data/file.bin', 'md5');
 * await pool.close();
 */
export class FileHashPool {
  readonly #slots: Slot[] = [];
  readonly #queue: Job[] = [];
  #nextId = 0;
  #closed = false;

  /** @param threads worker threads; @defaultValue the machine's available parallelism, at most 4 */
  constructor(threads = Math.min(4, availableParallelism())) {
    for (let i = 0; i < Math.max(1, threads); i += 1) {
      const worker = new Worker(WORKER_SOURCE, { eval: true });
      worker.unref();
      const slot: Slot = { worker, job: undefined };
      worker.on('message', (m: Reply) => {
        const job = slot.job;
        slot.job = undefined;
        if (job && job.id === m.id) {
          if ('digest' in m) job.resolve(m.digest);
          else
            job.reject(Object.assign(new Error(`${job.file}: ${m.error}`), m.code ? { code: m.code } : {}));
        }
        this.#pump();
      });
      worker.on('error', (e: Error) => {
        slot.job?.reject(e);
        slot.job = undefined;
      });
      this.#slots.push(slot);
    }
  }

  /** The hex digest of a file's content (`md5`, `sha256`, … as `crypto.createHash` names them). */
  digest(file: string, algorithm: string): Promise<string> {
    if (this.#closed) return Promise.reject(new Error('FileHashPool is closed'));
    return new Promise((resolve, reject) => {
      this.#queue.push({ id: (this.#nextId += 1), file, algorithm, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    for (const slot of this.#slots) {
      if (slot.job) continue;
      const job = this.#queue.shift();
      if (!job) return;
      slot.job = job;
      slot.worker.ref();
      slot.worker.postMessage({ id: job.id, file: job.file, algorithm: job.algorithm });
    }
    // Idle workers must not keep the process alive.
    for (const slot of this.#slots) if (!slot.job) slot.worker.unref();
  }

  /** Stop the workers; jobs still queued or running are rejected. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0)) job.reject(new Error('FileHashPool closed'));
    await Promise.all(
      this.#slots.map(async (s) => {
        s.job?.reject(new Error('FileHashPool closed'));
        s.job = undefined;
        await s.worker.terminate();
      }),
    );
  }
}
