/** A bad or missing environment variable: the message names it and what it expects. */
export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, expectation: string) {
    super(`${variable} ${expectation}`);
    this.name = "ConfigError";
    this.variable = variable;
  }
}
