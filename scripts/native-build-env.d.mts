export function withNodeHeaders(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
