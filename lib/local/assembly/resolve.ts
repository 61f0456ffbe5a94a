/**
 * Resolves CloudFormation intrinsics (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split,
 * Fn::If, Fn::ImportValue, Fn::FindInMap, Fn::Base64) to the values resources have locally:
 * a queue's Ref is its local URL, a table's its name, a bus's its name, a function's its name, and
 * ARNs are built for the runtime's region and account.
 */
import { createHash } from 'node:crypto';
import type { CfnResource, CloudAssembly, StackArtifact } from './template.ts';

export interface ResolveContext {
  readonly region: string;
  readonly account: string;
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string;
}

/** A value that could not be resolved; the message names the stack, resource and expression. */
export class ResolveError extends Error {
  override readonly name = 'ResolveError';
}

interface Identity {
  readonly ref: string;
  readonly attributes: Record<string, string>;
}

/** Stable short id, e.g. for REST API ids. */
export function shortId(text: string, length = 10): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

export class Resolver {
  private readonly identities = new Map<string, Identity>();
  private readonly exports = new Map<string, { stack: StackArtifact; value: unknown }>();
  private readonly resolving = new Set<string>();

  constructor(
    readonly assembly: CloudAssembly,
    readonly ctx: ResolveContext,
  ) {
    for (const stack of assembly.stacks) {
      for (const output of Object.values(stack.template.Outputs ?? {})) {
        if (output.Export) {
          const name = this.resolve(stack, output.Export.Name, 'Outputs');
          this.exports.set(String(name), { stack, value: output.Value });
        }
      }
    }
  }

  private arn(service: string, resource: string): string {
    return `arn:aws:${service}:${this.ctx.region}:${this.ctx.account}:${resource}`;
  }

  /** The physical name a resource gets: its name property, else `<stack>-<logicalId>` cut to `max`. */
  private physicalName(
    stack: StackArtifact,
    logicalId: string,
    resource: CfnResource,
    prop: string,
    max: number,
  ): string {
    const value = resource.Properties?.[prop];
    if (value !== undefined) return String(this.resolve(stack, value, `${logicalId}.${prop}`));
    const name = `${stack.name}-${logicalId}`;
    return name.length <= max ? name : `${name.slice(0, max - 9)}-${shortId(name, 8)}`;
  }

  /** Ref and attributes of a resource. */
  identity(stack: StackArtifact, logicalId: string): Identity {
    const key = `${stack.name}/${logicalId}`;
    const cached = this.identities.get(key);
    if (cached) return cached;
    const resource = stack.template.Resources?.[logicalId];
    if (!resource)
      throw new ResolveError(
        `Stack ${stack.name} references ${logicalId}, which is not one of its resources.`,
      );
    if (this.resolving.has(key)) throw new ResolveError(`Circular reference through ${key}.`);
    this.resolving.add(key);
    try {
      const identity = this.computeIdentity(stack, logicalId, resource);
      this.identities.set(key, identity);
      return identity;
    } finally {
      this.resolving.delete(key);
    }
  }

  private computeIdentity(stack: StackArtifact, logicalId: string, resource: CfnResource): Identity {
    switch (resource.Type) {
      case 'AWS::SQS::Queue': {
        const name = this.physicalName(stack, logicalId, resource, 'QueueName', 80);
        const url = `${this.ctx.baseUrl}/${this.ctx.account}/${name}`;
        return { ref: url, attributes: { Arn: this.arn('sqs', name), QueueName: name, QueueUrl: url } };
      }
      case 'AWS::Events::EventBus': {
        const name = this.physicalName(stack, logicalId, resource, 'Name', 256);
        return { ref: name, attributes: { Arn: this.arn('events', `event-bus/${name}`), Name: name } };
      }
      case 'AWS::Events::Rule': {
        const name = this.physicalName(stack, logicalId, resource, 'Name', 64);
        const bus = resource.Properties?.EventBusName;
        const busName =
          bus === undefined
            ? 'default'
            : String(this.resolve(stack, bus, `${logicalId}.EventBusName`))
                .split('/')
                .pop();
        const path = busName === 'default' ? name : `${busName}/${name}`;
        return { ref: name, attributes: { Arn: this.arn('events', `rule/${path}`) } };
      }
      case 'AWS::Events::Archive': {
        const name = this.physicalName(stack, logicalId, resource, 'ArchiveName', 48);
        return { ref: name, attributes: { Arn: this.arn('events', `archive/${name}`) } };
      }
      case 'AWS::DynamoDB::Table': {
        const name = this.physicalName(stack, logicalId, resource, 'TableName', 255);
        const arn = this.arn('dynamodb', `table/${name}`);
        return { ref: name, attributes: { Arn: arn, StreamArn: `${arn}/stream/local` } };
      }
      case 'AWS::Lambda::Function': {
        const name = this.physicalName(stack, logicalId, resource, 'FunctionName', 64);
        return { ref: name, attributes: { Arn: this.arn('lambda', `function:${name}`) } };
      }
      case 'AWS::SNS::Topic': {
        const name = this.physicalName(stack, logicalId, resource, 'TopicName', 256);
        const arn = this.arn('sns', name);
        return { ref: arn, attributes: { TopicArn: arn, TopicName: name } };
      }
      case 'AWS::IAM::Role': {
        const name = this.physicalName(stack, logicalId, resource, 'RoleName', 64);
        return {
          ref: name,
          attributes: {
            Arn: `arn:aws:iam::${this.ctx.account}:role/${name}`,
            RoleId: `AROA${shortId(name, 16).toUpperCase()}`,
          },
        };
      }
      case 'AWS::ApiGateway::RestApi': {
        const id = shortId(`${stack.name}/${logicalId}`);
        return { ref: id, attributes: { RootResourceId: `${id}-root`, RestApiId: id } };
      }
      case 'AWS::CloudWatch::Alarm': {
        const name = this.physicalName(stack, logicalId, resource, 'AlarmName', 255);
        return { ref: name, attributes: { Arn: this.arn('cloudwatch', `alarm:${name}`) } };
      }
      case 'AWS::Logs::LogGroup': {
        const name = this.physicalName(stack, logicalId, resource, 'LogGroupName', 512);
        return { ref: name, attributes: { Arn: this.arn('logs', `log-group:${name}:*`) } };
      }
      default: {
        const id = `${logicalId}-${shortId(`${stack.name}/${logicalId}`, 8)}`;
        return {
          ref: id,
          attributes: { Arn: this.arn(resource.Type.split('::')[1]?.toLowerCase() ?? 'local', id) },
        };
      }
    }
  }

  private pseudo(stack: StackArtifact, name: string): string | undefined {
    switch (name) {
      case 'AWS::Region':
        return this.ctx.region;
      case 'AWS::AccountId':
        return this.ctx.account;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return stack.name;
      case 'AWS::StackId':
        return this.arn('cloudformation', `stack/${stack.name}/local`);
      case 'AWS::NotificationARNs':
        return '';
      default:
        return undefined;
    }
  }

  private ref(stack: StackArtifact, name: string, where: string): unknown {
    const pseudo = this.pseudo(stack, name);
    if (pseudo !== undefined) return pseudo;
    if (name === 'AWS::NoValue') return undefined;
    const parameter = stack.template.Parameters?.[name];
    if (parameter) {
      if (parameter.Default !== undefined) return parameter.Default;
      throw new ResolveError(
        `${stack.name} ${where}: parameter ${name} has no default; the local runtime cannot supply it.`,
      );
    }
    return this.identity(stack, name).ref;
  }

  private getAtt(stack: StackArtifact, logicalId: string, attribute: string, where: string): string {
    const identity = this.identity(stack, logicalId);
    const value = identity.attributes[attribute];
    if (value === undefined)
      throw new ResolveError(
        `${stack.name} ${where}: Fn::GetAtt ${logicalId}.${attribute} has no local value (type ${stack.template.Resources?.[logicalId]?.Type}).`,
      );
    return value;
  }

  private condition(stack: StackArtifact, name: string): boolean {
    const expr = stack.template.Conditions?.[name];
    if (expr === undefined) throw new ResolveError(`${stack.name}: condition ${name} is not defined.`);
    return Boolean(this.evalCondition(stack, expr));
  }

  private evalCondition(stack: StackArtifact, expr: unknown): unknown {
    if (expr && typeof expr === 'object' && !Array.isArray(expr)) {
      const [key, arg] = Object.entries(expr)[0] ?? [];
      const args = Array.isArray(arg) ? arg : [arg];
      switch (key) {
        case 'Fn::Equals':
          return (
            JSON.stringify(this.resolve(stack, args[0], 'Conditions')) ===
            JSON.stringify(this.resolve(stack, args[1], 'Conditions'))
          );
        case 'Fn::Not':
          return !this.evalCondition(stack, args[0]);
        case 'Fn::And':
          return args.every((a) => this.evalCondition(stack, a));
        case 'Fn::Or':
          return args.some((a) => this.evalCondition(stack, a));
        case 'Condition':
          return this.condition(stack, String(arg));
      }
    }
    return this.resolve(stack, expr, 'Conditions');
  }

  /** Whether a resource's Condition (if any) holds. */
  included(stack: StackArtifact, resource: CfnResource): boolean {
    return resource.Condition === undefined || this.condition(stack, resource.Condition);
  }

  private sub(stack: StackArtifact, template: string, vars: Record<string, unknown>, where: string): string {
    return template.replace(/\$\{([^}]+)\}/g, (whole, name: string) => {
      if (name.startsWith('!')) return `\${${name.slice(1)}}`;
      if (name in vars) return String(this.resolve(stack, vars[name], where));
      const dot = name.indexOf('.');
      if (dot > 0 && !name.startsWith('AWS::'))
        return this.getAtt(stack, name.slice(0, dot), name.slice(dot + 1), where);
      const value = this.ref(stack, name, where);
      if (value === undefined) throw new ResolveError(`${stack.name} ${where}: cannot substitute ${whole}.`);
      return String(value);
    });
  }

  /** Resolves every intrinsic in `value`. `where` names the property for error messages. */
  resolve(stack: StackArtifact, value: unknown, where: string): unknown {
    if (Array.isArray(value))
      return value.map((v) => this.resolve(stack, v, where)).filter((v) => v !== undefined);
    if (!value || typeof value !== 'object') return value;
    const entries = Object.entries(value);
    if (entries.length === 1) {
      const [key, arg] = entries[0] as [string, unknown];
      switch (key) {
        case 'Ref':
          return this.ref(stack, String(arg), where);
        case 'Fn::GetAtt': {
          const [id, ...rest] = Array.isArray(arg) ? (arg as unknown[]).map(String) : String(arg).split('.');
          return this.getAtt(stack, String(id), rest.join('.'), where);
        }
        case 'Fn::Join': {
          const [sep, parts] = arg as [string, unknown];
          const list = this.resolve(stack, parts, where) as unknown[];
          return list.map(String).join(sep);
        }
        case 'Fn::Sub': {
          if (typeof arg === 'string') return this.sub(stack, arg, {}, where);
          const [template, vars] = arg as [string, Record<string, unknown>];
          return this.sub(stack, template, vars ?? {}, where);
        }
        case 'Fn::Select': {
          const [index, list] = arg as [unknown, unknown];
          const items = this.resolve(stack, list, where) as unknown[];
          return items[Number(this.resolve(stack, index, where))];
        }
        case 'Fn::Split': {
          const [sep, text] = arg as [string, unknown];
          return String(this.resolve(stack, text, where)).split(sep);
        }
        case 'Fn::If': {
          const [cond, yes, no] = arg as [string, unknown, unknown];
          return this.resolve(stack, this.condition(stack, cond) ? yes : no, where);
        }
        case 'Fn::ImportValue': {
          const name = String(this.resolve(stack, arg, where));
          const exported = this.exports.get(name);
          if (!exported) throw new ResolveError(`${stack.name} ${where}: no stack exports "${name}".`);
          return this.resolve(exported.stack, exported.value, `export ${name}`);
        }
        case 'Fn::FindInMap': {
          const [map, top, second] = (arg as unknown[]).map((a) => String(this.resolve(stack, a, where)));
          return stack.template.Mappings?.[String(map)]?.[String(top)]?.[String(second)];
        }
        case 'Fn::Base64':
          return Buffer.from(String(this.resolve(stack, arg, where))).toString('base64');
        case 'Fn::GetAZs':
          return [`${this.ctx.region}a`, `${this.ctx.region}b`, `${this.ctx.region}c`];
      }
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries) {
      const resolved = this.resolve(stack, v, `${where}.${k}`);
      if (resolved !== undefined) out[k] = resolved;
    }
    return out;
  }
}
