/**
 * Reads a cloud assembly (`cdk.out`): the manifest, each stack's synthesized template and the
 * directory of each bundled asset. Problems are reported as readable errors that say how to fix them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
  readonly Condition?: string;
  readonly DependsOn?: unknown;
}

export interface CfnTemplate {
  readonly Resources?: Record<string, CfnResource>;
  readonly Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown } }>;
  readonly Parameters?: Record<string, { Default?: unknown; Type?: string }>;
  readonly Conditions?: Record<string, unknown>;
  readonly Mappings?: Record<string, Record<string, Record<string, unknown>>>;
}

export interface StackArtifact {
  /** Stack name (the CloudFormation stack name). */
  readonly name: string;
  readonly template: CfnTemplate;
  /** Absolute path of the template file. */
  readonly templateFile: string;
  /** Account and region the stack is bound to, when it is. */
  readonly account: string | undefined;
  readonly region: string | undefined;
}

export interface CloudAssembly {
  readonly dir: string;
  readonly stacks: readonly StackArtifact[];
}

/** A cdk.out that cannot be read; its message tells the user what to do. */
export class CloudAssemblyError extends Error {
  override readonly name = 'CloudAssemblyError';
}

interface ManifestArtifact {
  readonly type?: string;
  readonly environment?: string;
  readonly displayName?: string;
  readonly properties?: { readonly templateFile?: string; readonly stackName?: string };
}

function readJson(path: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new CloudAssemblyError(
      `${what} at ${path} is not readable JSON (${(error as Error).message}). Run \`npm run synth\` again (or delete cdk.out) and retry.`,
    );
  }
}

function environment(env: string | undefined): { account?: string; region?: string } {
  const m = /^aws:\/\/([^/]+)\/(.+)$/.exec(env ?? '');
  if (!m) return {};
  const [, account, region] = m;
  return {
    account: account && !account.startsWith('unknown') ? account : undefined,
    region: region && !region.startsWith('unknown') ? region : undefined,
  };
}

/** Reads the stacks of the cloud assembly in `dir`. */
export function readCloudAssembly(dir: string): CloudAssembly {
  const root = resolve(dir);
  const manifestPath = join(root, 'manifest.json');
  if (!existsSync(manifestPath))
    throw new CloudAssemblyError(
      `No synthesized app at ${root} (manifest.json is missing). Run \`npm run synth\` first, or start without --no-synth so \`event-router dev\` synthesizes it.`,
    );
  const manifest = readJson(manifestPath, 'The cloud assembly manifest') as {
    artifacts?: Record<string, ManifestArtifact>;
  };
  const stacks: StackArtifact[] = [];
  for (const [id, artifact] of Object.entries(manifest.artifacts ?? {})) {
    if (artifact.type !== 'aws:cloudformation:stack') continue;
    const file = artifact.properties?.templateFile;
    if (!file)
      throw new CloudAssemblyError(
        `Stack ${id} in ${manifestPath} names no template file. Re-synthesize the app.`,
      );
    const templateFile = join(root, file);
    if (!existsSync(templateFile))
      throw new CloudAssemblyError(
        `The template of stack ${id} (${templateFile}) is missing. Re-synthesize the app.`,
      );
    const template = readJson(templateFile, `The template of stack ${id}`) as CfnTemplate;
    stacks.push({
      name: artifact.properties?.stackName ?? artifact.displayName ?? id,
      template,
      templateFile,
      ...{ account: undefined, region: undefined },
      ...environment(artifact.environment),
    });
  }
  if (stacks.length === 0)
    throw new CloudAssemblyError(
      `The cloud assembly at ${root} holds no stacks. Check bin/app.ts and re-synthesize.`,
    );
  return { dir: root, stacks };
}

/**
 * The directory of a Lambda function's bundled code: from the `aws:asset:path` metadata CDK writes,
 * else from the asset manifest entry whose object key is the function's `Code.S3Key`.
 */
export function assetDirectory(
  assembly: CloudAssembly,
  stack: StackArtifact,
  resource: CfnResource,
): string | undefined {
  const path = resource.Metadata?.['aws:asset:path'];
  if (typeof path === 'string') return resolve(assembly.dir, path);
  const code = resource.Properties?.Code as { S3Key?: unknown } | undefined;
  const key = typeof code?.S3Key === 'string' ? code.S3Key : undefined;
  if (!key) return undefined;
  const manifestFile = stack.templateFile.replace(/\.template\.json$/, '.assets.json');
  if (!existsSync(manifestFile)) return undefined;
  const assets = readJson(manifestFile, 'The asset manifest') as {
    files?: Record<
      string,
      { source?: { path?: string }; destinations?: Record<string, { objectKey?: string }> }
    >;
  };
  for (const file of Object.values(assets.files ?? {})) {
    const keys = Object.values(file.destinations ?? {}).map((d) => d.objectKey);
    if (keys.includes(key) && file.source?.path) return resolve(assembly.dir, file.source.path);
  }
  return undefined;
}
