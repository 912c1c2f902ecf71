// A typedoc plugin (typedoc.json "plugin"): resolves `@throws {@link ProtocolError}` and the like.
// TypeScript reads the braces after @throws as a type, so such links reach typedoc unresolved; and the error
// classes live in the root entry point (`farcall`), not in the part whose comment names them. This points
// every unresolved single-name link at the root module's export of that name, if it has one.
import { Converter, ReflectionKind } from 'typedoc';

export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    const project = context.project;
    const rootModule = project.children?.find(
      (child) => child.kind === ReflectionKind.Module && child.name === 'farcall',
    );
    if (rootModule === undefined) return;
    const byName = new Map((rootModule.children ?? []).map((child) => [child.name, child]));
    const fix = (parts) => {
      for (const part of parts ?? []) {
        if (part.kind !== 'inline-tag' || part.target !== undefined || !part.tag.startsWith('@link'))
          continue;
        const target = byName.get(part.text.trim());
        if (target !== undefined) part.target = target;
      }
    };
    for (const reflection of Object.values(project.reflections)) {
      const comment = reflection.comment;
      if (comment === undefined) continue;
      fix(comment.summary);
      for (const tag of comment.blockTags) fix(tag.content);
    }
  });
}
