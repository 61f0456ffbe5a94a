/**
 * A router written at the edge of every name limit the loader allows still synthesizes templates
 * CloudFormation accepts: every generated name, description, pattern, input template and policy is
 * within its AWS limit (from the one table, common/aws-limits.ts).
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { EVENTBRIDGE, IAM, NAME_LIMITS, QUEUE_POLICY_BYTES } from '../../common/aws-limits.ts';
import { kebabCase } from '../../common/case.ts';
import { loadSpec } from '../../lib/config/load.ts';
import { buildForTest, tempOutdir } from '../support/cdk.ts';
import { FIXTURE_HANDLER, PROJECT_ROOT as ROOT } from '../support/specs.ts';

interface Resource {
  Type: string;
  Properties?: Record<string, unknown>;
}

/** `length` characters of PascalCase. */
function pascal(prefix: string, length: number): string {
  return `${prefix}${'X'.repeat(length - prefix.length)}`;
}

/** An event name of exactly `length` characters. */
function eventName(i: number, length: number): string {
  const head = `domain.e${i}.`;
  return `${head}${'x'.repeat(length - head.length)}`;
}

const SERVICE = pascal('Svc', NAME_LIMITS.serviceName);
const METHODS = Array.from({ length: 6 }, (_, i) => pascal(`M${i}`, NAME_LIMITS.methodName));
const EVENTS = Array.from({ length: 30 }, (_, i) => eventName(i, NAME_LIMITS.eventName));

function yaml(): string {
  const rpcs = METHODS.map((m) => `      ${m}: {}\n`).join('');
  const events = EVENTS.map(
    (e, i) =>
      `  - name: ${e}\n    publisher: ${SERVICE}\n    schema: { type: object }\n    subscribers:\n${METHODS.map(
        (m) =>
          `      - id: ${SERVICE}/${m}\n${i === 0 ? `        filter: { payload: { k: [${Array.from({ length: 150 }, (_, v) => `"v${v}"`).join(', ')}] } }\n` : ''}`,
      ).join('')}`,
  ).join('');
  const publishers = `publishers:\n  ${SERVICE}:\n    iam: arn:aws:iam::*:role/publisher\n`;
  return `app:\n  name: ${'a'.repeat(40)}\n  stage: ${'s'.repeat(20)}\n${publishers}services:\n  ${SERVICE}:\n    rpcs:\n${rpcs}events:\n${events}`;
}

/** Characters of a policy document without whitespace, as IAM counts them. */
function policyChars(document: unknown): number {
  return JSON.stringify(document).replace(/\s/g, '').length;
}

describe('AWS limits in the synthesized templates', () => {
  it('holds every name, description, pattern, template and policy of a router at the name limits', () => {
    // Given a router at the longest names the loader accepts
    const dir = tempOutdir('er-limits-');
    writeFileSync(join(dir, 'event-router.yaml'), yaml());
    for (const method of METHODS) {
      const handler = join(dir, 'functions/rpcs', kebabCase(SERVICE), `${kebabCase(method)}.ts`);
      mkdirSync(dirname(handler), { recursive: true });
      // Each method is subscribed to every event: its handler takes them all, as validate requires.
      const cases = EVENTS.map((e) => `  '${e}': async () => ({}),\n`).join('');
      writeFileSync(
        handler,
        `import { defineRpc } from '#commons/rpc.ts';\nexport const handler = defineRpc({\n${cases}});\n`,
      );
    }
    const result = loadSpec(join(dir, 'event-router.yaml'));
    assert.deepEqual(
      result.diagnostics.filter((d) => d.severity === 'error'),
      [],
    );
    assert.ok(result.spec);
    // The handlers are bundled from the repository's fixture module (bundling is skipped anyway).
    const spec = {
      ...result.spec,
      rootDir: ROOT,
      services: result.spec.services.map((service) => ({
        ...service,
        rpcs: service.rpcs.map((rpc) => ({
          ...rpc,
          target: { kind: 'handler' as const, handler: FIXTURE_HANDLER },
        })),
      })),
    };

    // When it is synthesized
    const router = buildForTest(spec, { nag: false });
    const assembly = router.app.synth();

    // Then every resource is within its AWS limit
    const seen = { rules: 0, queues: 0, functions: 0, queuePolicies: 0, policies: 0 };
    for (const stack of assembly.stacks) {
      const resources = Object.values((stack.template as { Resources: Record<string, Resource> }).Resources);
      for (const { Type, Properties: p = {} } of resources) {
        const where = `${stack.stackName} ${Type}`;
        if (Type === 'AWS::Events::Rule') {
          seen.rules++;
          assert.ok(String(p.Name).length <= NAME_LIMITS.ruleName, `${where} name ${p.Name}`);
          assert.ok(String(p.Description).length <= NAME_LIMITS.ruleDescription, `${where} description`);
          assert.ok(JSON.stringify(p.EventPattern).length <= EVENTBRIDGE.patternChars, `${where} pattern`);
          const targets = p.Targets as Array<{ InputTransformer?: { InputTemplate: string } }>;
          assert.ok(targets.length <= EVENTBRIDGE.targetsPerRule);
          for (const target of targets)
            assert.ok(
              (target.InputTransformer?.InputTemplate.length ?? 0) <= EVENTBRIDGE.inputTemplateChars,
              `${where} input template`,
            );
        }
        if (Type === 'AWS::SQS::Queue') {
          seen.queues++;
          assert.ok(String(p.QueueName).length <= NAME_LIMITS.queueName, `${where} ${p.QueueName}`);
        }
        if (Type === 'AWS::Lambda::Function') {
          seen.functions++;
          if (p.FunctionName !== undefined)
            assert.ok(
              String(p.FunctionName).length <= NAME_LIMITS.functionName,
              `${where} ${p.FunctionName}`,
            );
        }
        if (Type === 'AWS::IAM::Role' && p.RoleName !== undefined)
          assert.ok(String(p.RoleName).length <= NAME_LIMITS.roleName, `${where} ${p.RoleName}`);
        if (Type === 'AWS::IAM::Policy') {
          seen.policies++;
          assert.ok(
            policyChars(p.PolicyDocument) <= IAM.rolePolicyChars,
            `${where} ${policyChars(p.PolicyDocument)}`,
          );
        }
        if (Type === 'AWS::IAM::ManagedPolicy') {
          assert.ok(String(p.ManagedPolicyName ?? '').length <= NAME_LIMITS.managedPolicyName);
          assert.ok(
            policyChars(p.PolicyDocument) <= IAM.managedPolicyChars,
            `${where} ${policyChars(p.PolicyDocument)}`,
          );
        }
        if (Type === 'AWS::SQS::QueuePolicy') {
          seen.queuePolicies++;
          const size = Buffer.byteLength(JSON.stringify(p.PolicyDocument));
          assert.ok(size <= QUEUE_POLICY_BYTES, `${where} ${size} bytes`);
        }
      }
    }
    // And the router really was synthesized in full
    assert.ok(seen.rules >= EVENTS.length * 2, `${seen.rules} rules`);
    assert.ok(seen.queues >= METHODS.length * 2);
    assert.ok(seen.functions >= METHODS.length);
    assert.ok(seen.queuePolicies >= METHODS.length);
  });
});
