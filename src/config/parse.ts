import { isMap, isScalar } from 'yaml';
import type { Node as YamlNode } from 'yaml';
import type { ConfigProblem } from './problems.js';
import { configError } from './problems.js';
import { ConfigSource } from './source.js';
import { closest } from '../patch/suggest.js';
import type { ConfigApiVersion } from './types.js';
import { kindApiVersion, kurApiVersion, supportedApiVersions } from './types.js';

export interface ParsedConfig {
  source: ConfigSource;
  apiVersion: ConfigApiVersion;
}

/**
 * Step 1: YAML syntax, then `apiVersion` and `kind`, read before anything else so an unknown
 * version is reported as such instead of as a pile of unknown fields.
 */
export function parseConfigText(text: string, name: string): ParsedConfig {
  const source = ConfigSource.parse(text, name);
  const root = source.doc.contents as YamlNode;
  const fail = (problem: ConfigProblem): never => {
    throw configError([problem], source);
  };
  if (!isMap(root)) {
    fail({
      path: [],
      problem: 'expected a mapping (`apiVersion: ...`, `kind: Cluster`, ...)',
      hint: exampleHint,
    });
  }
  const apiVersion = scalarString(source.nodeAt(['apiVersion']));
  const supported = supportedApiVersions.join(', ');
  if (apiVersion === undefined) {
    fail({
      path: source.nodeAt(['apiVersion']) === undefined ? [] : ['apiVersion'],
      problem: 'apiVersion is missing or not a string',
      hint: `Add \`apiVersion: ${kurApiVersion}\` (supported: ${supported}).`,
    });
  }
  if (!(supportedApiVersions as readonly string[]).includes(apiVersion!)) {
    const guess = closest(apiVersion!, supportedApiVersions);
    const older = apiVersion!.startsWith('kind.x-k8s.io/')
      ? ` kind's ${apiVersion!} files need converting to ${kindApiVersion} first.`
      : '';
    fail({
      path: ['apiVersion'],
      problem: `unsupported apiVersion ${JSON.stringify(apiVersion)}`,
      hint: `${guess === undefined ? '' : `Did you mean ${guess}? `}Supported: ${supported}.${older}`,
    });
  }
  const kind = scalarString(source.nodeAt(['kind']));
  if (kind !== 'Cluster') {
    fail({
      path: source.nodeAt(['kind']) === undefined ? [] : ['kind'],
      problem: kind === undefined ? 'kind is missing' : `unsupported kind ${JSON.stringify(kind)}`,
      hint: 'Set `kind: Cluster`.',
    });
  }
  return { source, apiVersion: apiVersion as ConfigApiVersion };
}

function scalarString(node: YamlNode | undefined): string | undefined {
  return node !== undefined && isScalar(node) && typeof node.value === 'string' ? node.value : undefined;
}

const exampleHint = `Start the file with:\napiVersion: ${kurApiVersion}\nkind: Cluster`;
