import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Kind, parse } from 'graphql';
import { envString, logger } from '@shop/kit';

const operationNames = (text: string): string[] =>
  parse(text).definitions.flatMap((d) => (d.kind === Kind.OPERATION_DEFINITION && d.name ? [d.name.value] : []));

/**
 * The closed set of operation names the gateway's metrics label by name: the partner operations and
 * the storefront's (client/src/operations/*.graphql, or CLIENT_OPERATIONS_PATH). Any other name a
 * client sends is counted as `other`, so no client can add time series.
 */
export function knownOperationNames(
  partnerBodies: Iterable<string>,
  clientDir = envString('CLIENT_OPERATIONS_PATH', fileURLToPath(new URL('../../../client/src/operations', import.meta.url))),
): Set<string> {
  const names = new Set<string>();
  for (const body of partnerBodies) for (const name of operationNames(body)) names.add(name);
  if (!existsSync(clientDir)) {
    logger.warn({ path: clientDir }, 'the storefront operations are not there: their metrics are labelled "other"');
    return names;
  }
  for (const file of readdirSync(clientDir).filter((f) => f.endsWith('.graphql'))) {
    for (const name of operationNames(readFileSync(`${clientDir}/${file}`, 'utf8'))) names.add(name);
  }
  return names;
}
