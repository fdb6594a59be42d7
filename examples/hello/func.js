// Kiln's demo function, written with Fn's own Node FDK (@fnproject/fdk), unmodified.
const fdk = require('@fnproject/fdk')

fdk.handle(function (input) {
  const name = (input && input.name) || 'World'
  return { message: `Hello ${name}` }
})
