/** The toolkit version, from package.json. */
import fs from 'node:fs';

export function toolkitVersion(): string {
  const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
