# Files to play with.
head -c 300000 /dev/urandom > photo.jpg
mkdir -p Pictures && echo hello > Pictures/a.txt && echo there > Pictures/b.txt

# Store and fetch. The first use makes ~/.tahoe with a local test grid and
# says where its shares are (one disk: for trying lafs, not for keeping data).
cap=$(bin/lafs put photo.jpg)              # prints URI:CHK:... (progress bar on a terminal)
bin/lafs get "$cap" copy.jpg               # verified; never clobbers without --force
cmp photo.jpg copy.jpg
bin/lafs put --json Pictures/*.txt         # JSON Lines, one object per file
bin/lafs put photo.jpg --dry-run           # the cap, without the grid (flags go anywhere)
bin/lafs status                            # the grid's servers: reachable, space, version

# Directories and aliases.
bin/lafs alias add home                    # a new directory, remembered in ~/.tahoe/private/aliases
bin/lafs mkdir -p home:photos/2026
bin/lafs cp -r Pictures home:photos/2026   # one progress bar for the tree
bin/lafs ls -l home:photos/2026/Pictures   # a table on a terminal, tab-separated when piped
bin/lafs get home:photos/2026/Pictures/a.txt .   # saves ./a.txt
bin/lafs cat home:photos/2026/Pictures/b.txt
bin/lafs share home:photos                 # a read-only cap to give to someone
bin/lafs mv home:photos/2026/Pictures home:archive
bin/lafs ls -R --json home:                # every name below, exact, one JSON object a line
bin/lafs rm -r home:archive
bin/lafs put photo.jpg home:photo.jpg
bin/lafs put --force photo.jpg home:photo.jpg   # replacing a name needs --force, as cp
bin/lafs backup Pictures home:backups      # a snapshot: home:backups/Archives/<time> and Latest
bin/lafs backup Pictures home:backups      # again: unchanged files are not sent (private/backupdb.sqlite)

# A networked grid: storage node processes speaking Tahoe's HTTP storage
# protocol (GBS) over TLS on 127.0.0.1, and a client node directory for them.
bin/lafs grid up --servers 5 ~/grid        # 3-of-5, happy 4
cap=$(bin/lafs -d ~/grid/client put photo.jpg)
bin/lafs grid down ~/grid 3 4              # stop two nodes: get still works with any 3
bin/lafs grid status ~/grid                # which nodes run: address, server id, shares, space
bin/lafs -d ~/grid/client get "$cap" - | cmp - photo.jpg
bin/lafs grid down ~/grid

# Capabilities: writecap → readcap → verifycap, byte-exact with Tahoe.
bin/lafs attenuate URI:SSK:ka5rjfyrmtap2dzo7lb2zpxxda:loysdkneuihxgdfwkfy5rmyw5t4eyvkdjlw2hb5u7uxvn67d6lda
bin/lafs version                           # lafs -v version adds the dependencies
source <(bin/lafs completion bash)         # or zsh, or fish; man pages: man/lafs-put.1 ...
