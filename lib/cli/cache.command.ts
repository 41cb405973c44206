/** `adapt-asr cache`: where the encoding cache is, how big, and --clear to empty it. */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';

interface CacheArgs { clear: boolean }

export const cacheCommand: CommandModule<object, CacheArgs> = {
  command: 'cache',
  describe: 'Show the encoding cache (encoder outputs that `train` keeps so a second run on the same recordings skips encoding), or empty it.',
  builder: (y: Argv) => y
    .option('clear', { type: 'boolean', default: false, describe: 'Remove every entry.' })
    .epilogue('Folder: $ADAPT_ASR_CACHE, else $XDG_CACHE_HOME/adapt-asr, else ~/.cache/adapt-asr. Limit: $ADAPT_ASR_CACHE_MB megabytes (default 2048; 0 turns the cache off); the least recently used entries go first.') as unknown as Argv<CacheArgs>,
  handler: async (argv: ArgumentsCamelCase<CacheArgs>) => {
    const { EncodingCache } = await import('../encoder/cache.js');
    const cache = new EncodingCache();
    const mb = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MB`;
    if (argv.clear) {
      const n = cache.clear();
      process.stdout.write(`removed ${n} entries from ${cache.dir}\n`);
      return;
    }
    const s = cache.stats();
    process.stdout.write(`${s.dir}: ${s.entries} entries, ${mb(s.bytes)} of ${mb(s.limitBytes)}\n`);
  },
};
