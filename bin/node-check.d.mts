// Types of node-check.mjs, which stays plain JavaScript so that an old Node can run it.
export declare const MINIMUM: string;
export declare function nodeProblem(version?: string, execPath?: string): string | undefined;
