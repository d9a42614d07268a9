# Every dependency is a Debian 12 package installed by scripts/install-deps.
find_package(PkgConfig REQUIRED)
find_package(tl-expected REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 REQUIRED)
find_package(Threads REQUIRED)
pkg_check_modules(LIBSSH REQUIRED IMPORTED_TARGET libssh)
pkg_check_modules(NETTLE REQUIRED IMPORTED_TARGET nettle)
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
# Disk image inspection (src/diskimage, ADR 0023): partition tables and superblocks
# (util-linux), ext2/3/4 read-only (e2fsprogs).
pkg_check_modules(BLKID REQUIRED IMPORTED_TARGET blkid)
pkg_check_modules(EXT2FS REQUIRED IMPORTED_TARGET ext2fs)
pkg_check_modules(COM_ERR REQUIRED IMPORTED_TARGET com_err)
