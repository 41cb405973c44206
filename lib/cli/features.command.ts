/** `adapt-asr features`: log-mel features of a WAV file as .npy, optionally a PNG picture. */
import path from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { UsageError } from '../errors.js';
import { PRESET_NAMES } from '../features/presets.js';

interface FeaturesArgs {
  input: string;
  preset: string;
  out: string;
  png?: string;
  verbose: boolean;
}

export const featuresCommand: CommandModule<object, FeaturesArgs> = {
  command: 'features <input>',
  describe: 'Compute log-mel features of a WAV file and save them as a NumPy .npy array.',
  builder: (y: Argv) => y
    .positional('input', { type: 'string', demandOption: true, describe: 'The WAV file to read. Any common PCM, float or G.711 WAV, any channel count and sample rate; it is downmixed to mono and resampled to 16 kHz.' })
    .option('preset', { type: 'string', choices: PRESET_NAMES, default: 'whisper-80', describe: 'The feature definition: whisper-80 and whisper-128 reproduce openai/whisper log_mel_spectrogram; kaldi-fbank-80 reproduces Kaldi fbank as computed by torchaudio.' })
    .option('out', { type: 'string', demandOption: true, describe: 'Where to write the features: a little-endian float32 .npy file of shape [frames, mels], readable with numpy.load.' })
    .option('png', { type: 'string', describe: 'Also write a picture of the features to this .png file (time left to right, low frequencies at the bottom).' })
    .example('$0 features talk.wav --preset whisper-80 --out talk.npy --png talk.png', 'Whisper features and a picture of them.')
    .check((argv) => {
      if (!String(argv.out).toLowerCase().endsWith('.npy')) throw new UsageError(`--out must name a .npy file, got '${argv.out}'. Example usage: adapt-asr features talk.wav --out talk.npy`);
      if (argv.png !== undefined && !String(argv.png).toLowerCase().endsWith('.png')) throw new UsageError(`--png must name a .png file, got '${argv.png}'`);
      if (argv.png !== undefined && path.resolve(String(argv.png)) === path.resolve(String(argv.out))) throw new UsageError('--png and --out must be different files');
      return true;
    }) as unknown as Argv<FeaturesArgs>,
  handler: async (argv: ArgumentsCamelCase<FeaturesArgs>) => {
    const { runFeatures } = await import('../pipeline/features.js');
    const r = runFeatures({ input: argv.input, preset: argv.preset, out: argv.out, png: argv.png });
    const rtf = argv.verbose ? `, ${(r.durationSec / (r.elapsedMs / 1000)).toFixed(0)}x real time` : '';
    process.stdout.write(`${argv.out}: ${r.numFrames} frames x ${r.dim} (${argv.preset}) from ${r.durationSec.toFixed(2)} s of audio${rtf}\n`);
  },
};
