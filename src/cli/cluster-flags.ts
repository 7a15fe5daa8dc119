import type { Command } from 'commander';
import type { ClusterSelection } from '../api/clusters.js';
import { defaultClusterName } from '../config/names.js';

export interface SelectionFlags {
  name: string;
  all?: boolean;
}

/** `--name N | --all`, for the commands that act on whole clusters (delete, stop, start). */
export function selectionOptions(command: Command, verb: string): Command {
  return command
    .option('-n, --name <name>', 'cluster name', defaultClusterName)
    .option('-A, --all', `${verb} every kur cluster on the engine`);
}

export function clusterSelection(flags: SelectionFlags): ClusterSelection {
  return flags.all === true ? { all: true } : { name: flags.name };
}
