// A template is the files `kiln init` writes for one runtime.

export interface TemplateFile {
  content: string;
  /** File mode; executables (bootstrap) need 0o755. */
  mode: number;
}

export type TemplateFiles = Record<string, TemplateFile>;

export const file = (content: string, mode = 0o644): TemplateFile => ({ content, mode });
