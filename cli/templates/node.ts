// `kiln init --runtime node`: an Fn http-stream function on Fn's own Node FDK, as `fn init` writes it.
import { file, type TemplateFiles } from './types.js';

export function nodeTemplate(name: string): TemplateFiles {
  return {
    'func.js': file(`// ${name}: answers {"message":"Hello <name>"} for a JSON body {"name": "..."}, else Hello World.
const fdk = require('@fnproject/fdk');

fdk.handle(function (input) {
  const name = (input && typeof input === 'object' && input.name) || 'World';
  // Whatever the function prints is kept as the call's log (\`kiln logs\`).
  console.log('${name} called for ' + name);
  return { message: 'Hello ' + name };
});
`),
    'package.json': file(
      `${JSON.stringify(
        { name, version: '1.0.0', private: true, main: 'func.js', dependencies: { '@fnproject/fdk': '>=0.0.76' } },
        null,
        2,
      )}\n`,
    ),
  };
}
