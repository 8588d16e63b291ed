// Each library's README names everything the package exports, types included: a stranger reads the
// README, and an export it never mentions is either undocumented or should not be public.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packages = fileURLToPath(new URL('../../', import.meta.url));

/** Every name in the `export { ... }` lists of a built declaration file (types included). */
export function exportedNames(dts: string): string[] {
  return [...dts.matchAll(/^export \{([^}]*)\}/gm)]
    .flatMap((m) => m[1]!.split(','))
    .map((name) =>
      name
        .trim()
        .replace(/^type /, '')
        .split(' as ')
        .pop()!
        .trim(),
    )
    .filter((name) => name !== '');
}

/** The names an export list holds that no inline code span of `readme` (outside code blocks) mentions. */
export function unmentioned(names: readonly string[], readme: string): string[] {
  const prose = readme.replace(/^```[^\n]*\n[\s\S]*?^```/gm, '');
  const spans = [...prose.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]).join('\n');
  return names.filter((name) => !new RegExp(`\\b${name}\\b`).test(spans));
}

describe('README exports', () => {
  it('a name counts when it is in inline code, not when only a code block uses it', () => {
    const readme = ['`HushClient.connect(options)` and `isHushError(e)`', '```ts', 'type ChatMessage = 1;', '```'].join('\n');
    expect(unmentioned(['HushClient', 'isHushError', 'ChatMessage'], readme)).toEqual(['ChatMessage']);
    expect(exportedNames("export { A } from 'x';\nexport { B, type C, d as D };")).toEqual(['A', 'B', 'C', 'D']);
  });

  for (const dir of ['client', 'protocol']) {
    it(`@hush/${dir}: its README names every export of dist/index.d.ts`, () => {
      const names = exportedNames(readFileSync(`${packages}${dir}/dist/index.d.ts`, 'utf8'));
      expect(names.length).toBeGreaterThan(10);
      expect(unmentioned(names, readFileSync(`${packages}${dir}/README.md`, 'utf8'))).toEqual([]);
    });
  }
});
