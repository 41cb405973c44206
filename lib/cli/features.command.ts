/** `adapt-asr features`: log-mel features of a WAV file as .npy, optionally a PNG picture. */
import path from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { UsageError } from '../errors.js';
import { PRESET_NAMES } from '../features/presets.js';

interface FeaturesArgs {
  input?: string;
  preset: string;
  out?: string;
  png?: string;
  manifest?: string;
  outDir?: string;
  verbose: boolean;
}

export const featuresCommand: CommandModule<object, FeaturesArgs> = {
  command: 'features [input]',
  describe: 'Compute log-mel features of a WAV file (or of every file of a dataset) and save them as NumPy .npy arrays.',
  builder: (y: Argv) => y
    .positional('input', { type: 'string', describe: 'The WAV file to read. Any common PCM, float or G.711 WAV, any channel count and sample rate; it is downmixed to mono and resampled to 16 kHz.' })
    .option('preset', { type: 'string', choices: PRESET_NAMES, default: 'whisper-80', describe: 'The feature definition: whisper-80 and whisper-128 reproduce openai/whisper log_mel_spectrogram; kaldi-fbank-80 reproduces Kaldi fbank as computed by torchaudio.' })
    .option('out', { type: 'string', describe: 'Where to write the features: a little-endian float32 .npy file of shape [frames, mels], readable with numpy.load.' })
    .option('manifest', { type: 'string', describe: 'Batch mode: a dataset (a .jsonl manifest or a folder with transcripts.tsv); every audio file gets <out-dir>/<name>.npy. Existing outputs are kept, so an interrupted run resumes.' })
    .option('out-dir', { type: 'string', describe: 'Batch mode: the folder for the .npy files.' })
    .option('png', { type: 'string', describe: 'Also write a picture of the features to this .png file (time left to right, low frequencies at the bottom).' })
    .example('$0 features talk.wav --preset whisper-80 --out talk.npy --png talk.png', 'Whisper features and a picture of them.')
    .example('$0 features --manifest train.jsonl --out-dir feats/ --preset kaldi-fbank-80', 'Features of a whole dataset, one .npy per file.')
    .check((argv) => {
      if (argv.manifest !== undefined) {
        if (argv.input !== undefined || argv.out !== undefined || argv.png !== undefined) throw new UsageError('--manifest (batch mode) takes --out-dir, not an input file, --out or --png');
        if (argv.outDir === undefined) throw new UsageError('--manifest needs --out-dir. Example usage: adapt-asr features --manifest train.jsonl --out-dir feats/');
        return true;
      }
      if (argv.input === undefined) throw new UsageError('name an input WAV file (or a dataset with --manifest). Example usage: adapt-asr features talk.wav --out talk.npy');
      if (argv.out === undefined) throw new UsageError('Missing required argument: out');
      if (!String(argv.out).toLowerCase().endsWith('.npy')) throw new UsageError(`--out must name a .npy file, got '${argv.out}'. Example usage: adapt-asr features talk.wav --out talk.npy`);
      if (argv.png !== undefined && !String(argv.png).toLowerCase().endsWith('.png')) throw new UsageError(`--png must name a .png file, got '${argv.png}'`);
      if (argv.png !== undefined && path.resolve(String(argv.png)) === path.resolve(String(argv.out))) throw new UsageError('--png and --out must be different files');
      return true;
    }) as unknown as Argv<FeaturesArgs>,
  handler: async (argv: ArgumentsCamelCase<FeaturesArgs>) => {
    if (argv.manifest !== undefined) {
      const { runFeaturesBatch } = await import('../pipeline/features-batch.js');
      const { progressBar } = await import('./progress.js');
      const bar = progressBar('features');
      const r = runFeaturesBatch(argv.manifest, argv.outDir!, argv.preset, (i, n) => bar.update(i, n));
      bar.stop();
      for (const f of r.failed.slice(0, 5)) process.stderr.write(`adapt-asr: skipped ${f.error}\n`);
      if (r.failed.length > 5) process.stderr.write(`adapt-asr: ... and ${r.failed.length - 5} more\n`);
      process.stdout.write(`${argv.outDir}: ${r.done} written (${(r.audioSeconds / 3600).toFixed(2)} h of audio), ${r.skipped} already there, ${r.failed.length} failed\n`);
      if (r.failed.length > 0) process.exitCode = 1;
      return;
    }
    const { runFeatures } = await import('../pipeline/features.js');
    const r = runFeatures({ input: argv.input!, preset: argv.preset, out: argv.out!, png: argv.png });
    const rtf = argv.verbose ? `, ${(r.durationSec / (r.elapsedMs / 1000)).toFixed(0)}x real time` : '';
    process.stdout.write(`${argv.out}: ${r.numFrames} frames x ${r.dim} (${argv.preset}) from ${r.durationSec.toFixed(2)} s of audio${rtf}\n`);
  },
};
