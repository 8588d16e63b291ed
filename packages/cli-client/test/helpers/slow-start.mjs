// Loaded with `node --import` into a `hush` under test: each module dist/cli.js imports waits 2 s
// to be found, the first wait announced in the file $HUSH_TEST_SLOW_MARK, so a test types while
// hush is still loading, at the moment a person typing ahead of a slow start would.
import { register } from 'node:module';

register(
  `data:text/javascript,${encodeURIComponent(`
import { writeFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  if (context.parentURL?.endsWith('/dist/cli.js') && !specifier.startsWith('node:')) {
    writeFileSync(${JSON.stringify(process.env.HUSH_TEST_SLOW_MARK ?? '')}, 'loading');
    await new Promise((r) => setTimeout(r, 2000));
  }
  return next(specifier, context);
}`)}`,
);
