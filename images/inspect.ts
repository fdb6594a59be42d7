// Image lookups that treat "no such image" as an answer, not an error.
import type Docker from 'dockerode';

/** The image's inspect data, or null when the engine has no such image. */
export async function inspectImage(docker: Docker, ref: string): Promise<Docker.ImageInspectInfo | null> {
  try {
    return await docker.getImage(ref).inspect();
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return null;
    throw err;
  }
}
