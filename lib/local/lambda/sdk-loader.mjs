// Module resolve hook for local function processes: a bare import of the AWS SDK (`@aws-sdk/*`,
// `@smithy/*`) that the bundle does not contain resolves from the project, as Lambda's Node.js
// runtime provides the SDK v3 to every function. Anything else must be in the bundle, as in Lambda.
let fallbackParent;

export function initialize(data) {
  fallbackParent = data?.parent;
}

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    const provided = specifier.startsWith('@aws-sdk/') || specifier.startsWith('@smithy/');
    if (!provided || !fallbackParent || error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
    return nextResolve(specifier, { ...context, parentURL: fallbackParent });
  }
}
