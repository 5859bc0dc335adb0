// Reads a rendered ASK project with ask-cli's own config classes, the ones `ask deploy` loads, and
// prints as JSON what ask-cli would deploy for the profile: skill ID, package source, endpoint.
// Usage: node ask_cli_reads.cjs <project dir> <profile>
const fs = require("node:fs");
const path = require("node:path");

const [projectDir, profile] = process.argv.slice(2);
process.chdir(projectDir);
const ResourcesConfig = require("ask-cli/dist/lib/model/resources-config");
const Manifest = require("ask-cli/dist/lib/model/manifest");

new ResourcesConfig(path.resolve("ask-resources.json"));
const resources = ResourcesConfig.getInstance();
const src = resources.getSkillMetaSrc(profile);
new Manifest(path.join(src, "skill.json"));
const manifest = Manifest.getInstance();
process.stdout.write(JSON.stringify({
  profileDefined: Boolean(resources.getProfile(profile)),
  skillId: resources.getSkillId(profile) || null,
  skillMetadataSrc: src,
  skillMetadataSrcExists: fs.existsSync(src),
  codeRegions: resources.getCodeRegions(profile),
  endpoint: manifest.getApisEndpointByDomainRegion("custom", "default"),
  skillName: manifest.getSkillName(),
}));
