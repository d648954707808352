import packageJson from '../package.json' with { type: 'json' };

export const VERSION: string = packageJson.version;

/** The project's web address, from package.json `repository` (`git+https://…/x.git` → `https://…/x`). */
export const REPOSITORY_URL: string = packageJson.repository.url.replace(/^git\+/, '').replace(/\.git$/, '');
