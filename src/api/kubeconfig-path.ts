import { homedir } from 'node:os';

type Env = Record<string, string | undefined>;

/** `--kubeconfig`, else the first file in $KUBECONFIG, else ~/.kube/config. */
export function resolveKubeconfigPath(opts: { flag?: string; env: Env; home: string }): string {
  if (opts.flag !== undefined && opts.flag !== '') return opts.flag;
  const first = (opts.env.KUBECONFIG ?? '').split(':').find((p) => p !== '');
  if (first !== undefined) return first;
  return `${opts.home}/.kube/config`;
}

/** The CLI's kubeconfig: `flag` when given, else the user's default file. An empty HOME counts as unset. */
export function kubeconfigPathFor(flag: string | undefined, env: Env): string {
  const home = env.HOME !== undefined && env.HOME !== '' ? env.HOME : homedir();
  return resolveKubeconfigPath({ ...(flag !== undefined ? { flag } : {}), env, home });
}

/**
 * The kubeconfig file the CLI writes to: the first path of `KUBECONFIG`, else `~/.kube/config`.
 * Pass it as `kubeconfig` to `createCluster` to behave like `kur create cluster`.
 */
export function defaultKubeconfigPath(env: Env = process.env): string {
  return kubeconfigPathFor(undefined, env);
}
