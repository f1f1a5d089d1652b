// Stand-in for escalade/sync in the executable: yargs uses it to find and
// read a package.json at run time; guestnet passes its version explicitly.
export default function findUp(): undefined {
  return undefined;
}
