/**
 * Shared by the infra tests: synthesize a configuration (with a registry image, so no asset is staged) and
 * read the synthesized templates.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Template } from 'aws-cdk-lib/assertions';
import { ContainerImage } from 'aws-cdk-lib/aws-ecs';

import { synthesize, type SynthResult } from '../../infra/lib/synth.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const EXAMPLE_ACCOUNT = '111122223333';

/** Synthesize `dir/replication_config.json` + `dir/settings.json` (relative to the repository root). */
export function synth(dir: string, account: string = EXAMPLE_ACCOUNT): Promise<SynthResult> {
  return synthesize({
    context: {
      'baler:config': path.join(dir, 'replication_config.json'),
      'baler:settings': path.join(dir, 'settings.json'),
      'baler:account': account,
    },
    env: {},
    baseDir: REPO_ROOT,
    repoRoot: REPO_ROOT,
    image: () => ContainerImage.fromRegistry('public.ecr.aws/example/baler:test'),
  });
}

/** The template of each stack, by stack name. */
export function templates(r: SynthResult): Map<string, Template> {
  return new Map(r.assembly.stacks.map((s) => [s.stackName, Template.fromJSON(s.template as object)]));
}

/** Every resource of a type across templates: [stack name, logical id, properties]. */
export function resourcesOf(
  all: Map<string, Template>,
  type: string,
): { stack: string; id: string; props: Record<string, unknown> }[] {
  const out: { stack: string; id: string; props: Record<string, unknown> }[] = [];
  for (const [stack, t] of all) {
    for (const [id, r] of Object.entries(t.findResources(type))) {
      out.push({ stack, id, props: (r as { Properties?: Record<string, unknown> }).Properties ?? {} });
    }
  }
  return out;
}

/**
 * Render a CloudFormation value as text with intrinsic functions in brackets: `{Ref: X}` -> `[Ref X]`,
 * `Fn::Join` joined, `Fn::GetAtt` -> `[GetAtt X.Arn]`, `Fn::ImportValue` -> `[Import X]`.
 */
export function flat(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return v.map(flat).join(',');
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if ('Ref' in o) return `[Ref ${String(o['Ref'])}]`;
    if ('Fn::Join' in o) {
      const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map(flat).join(sep);
    }
    if ('Fn::GetAtt' in o) return `[GetAtt ${(o['Fn::GetAtt'] as string[]).join('.')}]`;
    if ('Fn::ImportValue' in o) return `[Import ${flat(o['Fn::ImportValue'])}]`;
    if ('Fn::Sub' in o) return flat(o['Fn::Sub']);
    return JSON.stringify(o);
  }
  return String(v);
}

/** One IAM statement, normalised. */
export interface Statement {
  readonly stack: string;
  readonly policy: string;
  readonly sid: string | undefined;
  readonly actions: string[];
  readonly resources: string[];
  readonly condition: unknown;
}

/** Every statement of every AWS::IAM::Policy. */
export function iamStatements(all: Map<string, Template>): Statement[] {
  const out: Statement[] = [];
  for (const p of resourcesOf(all, 'AWS::IAM::Policy')) {
    const doc = p.props['PolicyDocument'] as { Statement: Record<string, unknown>[] };
    for (const s of doc.Statement) {
      out.push({
        stack: p.stack,
        policy: p.id,
        sid: s['Sid'] as string | undefined,
        actions: ([] as unknown[]).concat(s['Action']).map(String),
        resources: ([] as unknown[]).concat(s['Resource']).map(flat),
        condition: s['Condition'],
      });
    }
  }
  return out;
}
