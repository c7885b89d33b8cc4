import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { z } from 'zod';

/**
 * The resume record written beside `NAME.partial` as `NAME.partial.json` while a large object downloads. It
 * names the object version (ETag, size, LastModified) the bytes on disk belong to; every later request is
 * made conditional on that ETag (`If-Match`), so bytes of two versions are never mixed.
 */
export const ResumeRecordSchema = z.object({
  v: z.literal(1),
  etag: z.string().min(1),
  size: z.number().int().nonnegative(),
  lastModified: z.string(),
  /** `stream`: one sequential GET, resumed from the partial file's length. `ranged`: parts at offsets. */
  mode: z.enum(['stream', 'ranged']),
  partSizeBytes: z.number().int().positive(),
  /** Ranged mode: indexes of the parts completely written. */
  done: z.array(z.number().int().nonnegative()),
});
export type ResumeRecord = z.infer<typeof ResumeRecordSchema>;

/** Read a resume record; `undefined` when there is none or it is unreadable (then the partial is discarded). */
export async function readResumeRecord(file: string): Promise<ResumeRecord | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = ResumeRecordSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Write a resume record atomically (temp file + rename), so a kill mid-write leaves the previous one. */
export async function writeResumeRecord(file: string, record: ResumeRecord): Promise<void> {
  const tmp = `${file}.tmp`; // RESUME_TMP_SUFFIX: localTarget leaves room for it
  await writeFile(tmp, JSON.stringify(record));
  await rename(tmp, file);
}

/** Remove a partial download and its record. */
export async function discardPartial(partialPath: string, recordPath: string): Promise<void> {
  await Promise.all([rm(partialPath, { force: true }), rm(recordPath, { force: true })]);
}

/**
 * Does this record describe the same object version and layout as the current listing? Only then are the
 * bytes on disk reused.
 */
export function recordMatches(
  record: ResumeRecord | undefined,
  object: { etag: string; size: number },
  mode: ResumeRecord['mode'],
  partSizeBytes: number,
): record is ResumeRecord {
  return (
    record !== undefined &&
    record.etag === object.etag &&
    record.size === object.size &&
    record.mode === mode &&
    (mode === 'stream' || record.partSizeBytes === partSizeBytes)
  );
}
