/** `adapt-asr info`: versions, cores and the training backend this machine will use. */
import os from 'node:os';
import type { CommandModule } from 'yargs';

export const infoCommand: CommandModule = {
  command: 'info',
  describe: 'Show the toolkit version, the machine, and which TensorFlow.js backend training will use.',
  handler: async () => {
    const { toolkitVersion } = await import('../version.js');
    const { initTraining } = await import('../train/backend.js');
    const rt = await initTraining();
    const lines = [
      `adapt-asr ${toolkitVersion()}`,
      `node ${process.versions.node} on ${os.platform()} ${os.arch()}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
      `training backend: ${rt.backend}${rt.fallbackReason ? ` (${rt.fallbackReason})` : ''}, tfjs ${rt.tf.version.tfjs}`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
  },
};
