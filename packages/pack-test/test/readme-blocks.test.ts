import { describe, expect, it } from 'vitest';
import { markedBlocks } from './readme-blocks.js';

const fence = '```';

describe('markedBlocks', () => {
  it('finds runnable and typecheck blocks with their names, lines and exact code', () => {
    const text = [
      '# pkg',
      '',
      `${fence}sh`,
      'npm i x',
      fence,
      '',
      `${fence}js runnable=bot`,
      'console.log(1);',
      '',
      'console.log(2);',
      fence,
      `${fence}ts typecheck=bot`,
      'const a: number = 1;',
      fence,
      `${fence}ts`,
      'not checked',
      fence,
    ].join('\n');
    expect(markedBlocks('README.md', text)).toEqual([
      { readme: 'README.md', line: 7, mode: 'runnable', name: 'bot', code: 'console.log(1);\n\nconsole.log(2);\n' },
      { readme: 'README.md', line: 12, mode: 'typecheck', name: 'bot', code: 'const a: number = 1;\n' },
    ]);
  });

  it('refuses a marker without a name, on the wrong language, twice, or a block never closed', () => {
    expect(() => markedBlocks('R', `${fence}js runnable\nx\n${fence}`)).toThrow('R:1: write one marker as runnable=NAME');
    expect(() => markedBlocks('R', `${fence}ts runnable=a\nx\n${fence}`)).toThrow('a runnable block must be ```js, not ```ts');
    expect(() => markedBlocks('R', `${fence}js typecheck=a\nx\n${fence}`)).toThrow('a typecheck block must be ```ts');
    expect(() => markedBlocks('R', `${fence}js runnable=a\n${fence}\n${fence}js runnable=a\n${fence}`)).toThrow(
      'R:3: a second runnable=a block',
    );
    expect(() => markedBlocks('R', `${fence}js runnable=a\nx`)).toThrow('R:1: code block never closed');
  });
});
