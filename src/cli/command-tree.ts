// The command definitions of svcmgr, svcmon and nodemgr as plain data, read from their
// commander programs (buildProgram): what the man pages and the bash completion are made of.
import type { Command, Option } from 'commander';

export interface OptionSpec {
  flags: string;
  short?: string;
  long?: string;
  /** the value's name when the option takes one (`<svc>` → svc) */
  value?: string;
  description: string;
  defaultValue?: string;
  choices?: string[];
  mandatory: boolean;
}

export interface ArgumentSpec {
  name: string;
  required: boolean;
  variadic: boolean;
  description: string;
}

export interface CommandSpec {
  /** words from the program down to this command (the program's own is []) */
  path: string[];
  name: string;
  description: string;
  aliases: string[];
  options: OptionSpec[];
  arguments: ArgumentSpec[];
  commands: CommandSpec[];
}

function optionSpec(o: Option): OptionSpec {
  const value = /[<[]([^>\]]+)[>\]]/.exec(o.flags)?.[1];
  const spec: OptionSpec = { flags: o.flags, description: o.description, mandatory: o.mandatory };
  if (o.short) spec.short = o.short;
  if (o.long) spec.long = o.long;
  if (value !== undefined) spec.value = value.replace(/\.\.\.$/, '');
  if (o.defaultValue !== undefined && typeof o.defaultValue !== 'boolean') spec.defaultValue = String(o.defaultValue);
  if (o.argChoices) spec.choices = [...o.argChoices];
  return spec;
}

export function commandTree(cmd: Command, parent: string[] = []): CommandSpec {
  const path = parent.length === 0 && cmd.parent === null ? [] : [...parent, cmd.name()];
  return {
    path,
    name: cmd.name(),
    description: cmd.description(),
    aliases: [...cmd.aliases()],
    options: cmd.options.filter((o) => !o.hidden).map(optionSpec),
    arguments: cmd.registeredArguments.map((a) => ({ name: a.name(), required: a.required, variadic: a.variadic, description: a.description })),
    commands: cmd.commands.map((c) => commandTree(c, path)),
  };
}

/** Every command of the tree, depth first, the program first. */
export function allCommands(root: CommandSpec): CommandSpec[] {
  return [root, ...root.commands.flatMap(allCommands)];
}
