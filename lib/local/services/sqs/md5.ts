/**
 * The MD5 digests SQS returns with a message, which SDK clients verify: of the body, and of the
 * message attributes in SQS's binary encoding (attributes sorted by name; each as length-prefixed
 * name, length-prefixed data type, a transport byte 1 = string / 2 = binary, length-prefixed value).
 */
import { createHash } from 'node:crypto';

/** One message attribute as the JSON protocol carries it (binary values base64-encoded). */
export interface MessageAttributeValue {
  readonly DataType: string;
  readonly StringValue?: string;
  readonly BinaryValue?: string;
  readonly StringListValues?: readonly string[];
  readonly BinaryListValues?: readonly string[];
}

export function md5Hex(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}

function lengthPrefixed(bytes: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length, 0);
  return Buffer.concat([length, bytes]);
}

/** MD5 of a set of message attributes, or undefined when there are none. */
export function md5OfAttributes(
  attributes: Readonly<Record<string, MessageAttributeValue>>,
): string | undefined {
  const names = Object.keys(attributes).sort();
  if (names.length === 0) return undefined;
  const hash = createHash('md5');
  for (const name of names) {
    const value = attributes[name];
    if (!value) continue;
    hash.update(lengthPrefixed(Buffer.from(name, 'utf8')));
    hash.update(lengthPrefixed(Buffer.from(value.DataType, 'utf8')));
    if (value.StringValue !== undefined) {
      hash.update(Buffer.from([1]));
      hash.update(lengthPrefixed(Buffer.from(value.StringValue, 'utf8')));
    } else if (value.BinaryValue !== undefined) {
      hash.update(Buffer.from([2]));
      hash.update(lengthPrefixed(Buffer.from(value.BinaryValue, 'base64')));
    }
  }
  return hash.digest('hex');
}

/** Bytes an attribute counts toward the message size limit (name + type + value). */
export function attributesSize(attributes: Readonly<Record<string, MessageAttributeValue>>): number {
  let size = 0;
  for (const [name, value] of Object.entries(attributes)) {
    size += Buffer.byteLength(name) + Buffer.byteLength(value.DataType);
    if (value.StringValue !== undefined) size += Buffer.byteLength(value.StringValue);
    if (value.BinaryValue !== undefined) size += Buffer.from(value.BinaryValue, 'base64').length;
  }
  return size;
}
