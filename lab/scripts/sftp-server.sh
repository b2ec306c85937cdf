# Runs the node's SFTP server as root (halab starts this under sudo), so
# that root-owned files such as /etc/ha.d/authkeys are written directly,
# with no world-readable staging copy. The path differs between
# distributions.
for p in /usr/lib/openssh/sftp-server /usr/libexec/openssh/sftp-server /usr/lib/ssh/sftp-server /usr/libexec/sftp-server; do
  [ -x "$p" ] && exec "$p"
done
echo "no sftp-server found" >&2
exit 127
