// Lines of the engine's image event stream (`docker events --filter type=image`) that point a
// name somewhere new, read into what each tells. The daemon logs them differently per action
// (moby's LogImageEvent callers; the shapes were seen on this engine, 20.10):
// - tag: Actor.ID is the image id, Attributes.name the name given (`repo:tag`). Builds and
//   imports that name an image log a tag event too.
// - pull: Actor.ID is the reference pulled (`repo:tag`), Attributes.name only its repository.
// - load: Actor.ID and Attributes.name are both the image id; which names it now has, only the
//   image itself says (its RepoTags).

/** The engine's image actions that may point a name at another image. */
export const RETAG_ACTIONS = ['tag', 'pull', 'load'] as const;

/** What a line says: `name` now names an image (`id` when the line tells it), or image `id` got names. */
export type ImageEvent = { name: string; id?: string } | { id: string; name?: undefined };

const isImageId = (s: string): boolean => s.startsWith('sha256:');

export function imageEvent(line: string): ImageEvent | undefined {
  let event: { Type?: unknown; Action?: unknown; Actor?: { ID?: unknown; Attributes?: { name?: unknown } } } | null;
  try {
    event = JSON.parse(line) as typeof event;
  } catch {
    return undefined;
  }
  if (event?.Type !== 'image') return undefined;
  const id = typeof event.Actor?.ID === 'string' && event.Actor.ID !== '' ? event.Actor.ID : undefined;
  const name = event.Actor?.Attributes?.name;
  switch (event.Action) {
    case 'tag':
      return typeof name === 'string' && name !== '' && !isImageId(name) ? { name, ...(id !== undefined && isImageId(id) && { id }) } : undefined;
    case 'pull':
      return id !== undefined && !isImageId(id) ? { name: id } : undefined;
    case 'load':
      return id !== undefined && isImageId(id) ? { id } : undefined;
    default:
      return undefined;
  }
}
