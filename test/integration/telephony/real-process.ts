import vm from 'node:vm';

/**
 * The process object of the main context. Jest runs a test file in a vm context with its own copy of `process`,
 * whose listeners never see the real process's 'warning', 'unhandledRejection' or 'uncaughtException' events; code
 * run in this context (vm.runInThisContext) sees the real one. Outside Jest it is simply `process`.
 */
export function realProcess(): NodeJS.Process {
  return vm.runInThisContext('process') as NodeJS.Process;
}
