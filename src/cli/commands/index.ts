/**
 * Every subcommand of `convnext`. A command lives in its own file exporting `register(program)`;
 * add it to this list to make it available.
 */
import type { Command } from 'commander';
import * as info from './info';
import * as predict from './predict';
import * as train from './train';
import * as evaluate from './eval';
import * as exportRecipe from './export-recipe';

export const COMMANDS: Array<{ register(program: Command): void }> = [info, predict, train, evaluate, exportRecipe];
