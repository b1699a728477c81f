# write_sbom.cmake: cmake -DBINARY=... -DOUTPUT=... -DCOMPONENTS=... -DNAME=... -DVERSION=...
#   -DCOMMIT=... -DARCH=... -P write_sbom.cmake
# Writes the SPDX 2.3 JSON document of BINARY (see Sbom.cmake): the binary as the described
# package, with its SHA-256, and one package per line of COMPONENTS
# ("name|version|license|origin"), each statically linked into it.
foreach(var IN ITEMS BINARY OUTPUT COMPONENTS NAME VERSION COMMIT ARCH)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "write_sbom: -D${var}=... missing")
  endif()
endforeach()

file(SHA256 "${BINARY}" binary_sha256)
if(DEFINED ENV{SOURCE_DATE_EPOCH} AND "$ENV{SOURCE_DATE_EPOCH}" MATCHES "^[0-9]+$")
  string(TIMESTAMP created "%Y-%m-%dT%H:%M:%SZ" UTC)  # honours SOURCE_DATE_EPOCH
else()
  set(created "1970-01-01T00:00:00Z")  # a dev build: no date rather than a varying one
endif()
if(ARCH MATCHES "^(x86_64|AMD64|amd64)$")
  set(goarch amd64)
elseif(ARCH MATCHES "^(aarch64|arm64)$")
  set(goarch arm64)
else()
  set(goarch "${ARCH}")
endif()

function(spdx_id name out)
  string(REGEX REPLACE "[^A-Za-z0-9.-]" "-" id "${name}")
  set(${out} "SPDXRef-Package-${id}" PARENT_SCOPE)
endfunction()

set(doc "{}")
string(JSON doc SET "${doc}" spdxVersion "\"SPDX-2.3\"")
string(JSON doc SET "${doc}" dataLicense "\"CC0-1.0\"")
string(JSON doc SET "${doc}" SPDXID "\"SPDXRef-DOCUMENT\"")
string(JSON doc SET "${doc}" name "\"${NAME}-linux-${goarch}\"")
string(JSON doc SET "${doc}" documentNamespace
  "\"https://github.com/quay-credential-provider/spdx/${NAME}-${VERSION}-${COMMIT}-linux-${goarch}-${binary_sha256}\"")
string(JSON doc SET "${doc}" creationInfo
  "{\"created\":\"${created}\",\"creators\":[\"Tool: quay-credential-provider cmake/write_sbom.cmake\"]}")

# One SPDX package: the fields every package here has.
function(spdx_package out id name version license purpose)
  set(package "{}")
  string(JSON package SET "${package}" SPDXID "\"${id}\"")
  string(JSON package SET "${package}" name "\"${name}\"")
  string(JSON package SET "${package}" versionInfo "\"${version}\"")
  string(JSON package SET "${package}" downloadLocation "\"NOASSERTION\"")
  string(JSON package SET "${package}" filesAnalyzed "false")
  string(JSON package SET "${package}" licenseConcluded "\"${license}\"")
  string(JSON package SET "${package}" licenseDeclared "\"${license}\"")
  string(JSON package SET "${package}" copyrightText "\"NOASSERTION\"")
  string(JSON package SET "${package}" primaryPackagePurpose "\"${purpose}\"")
  set(${out} "${package}" PARENT_SCOPE)
endfunction()

spdx_id("${NAME}" self_id)
spdx_package(self "${self_id}" "${NAME}" "${VERSION}+${COMMIT}" Apache-2.0 APPLICATION)
string(JSON self SET "${self}" packageFileName "\"${NAME}-linux-${goarch}\"")
string(JSON self SET "${self}" checksums "[{\"algorithm\":\"SHA256\",\"checksumValue\":\"${binary_sha256}\"}]")
string(JSON doc SET "${doc}" packages "[${self}]")
string(JSON doc SET "${doc}" relationships
  "[{\"spdxElementId\":\"SPDXRef-DOCUMENT\",\"relationshipType\":\"DESCRIBES\",\"relatedSpdxElement\":\"${self_id}\"}]")

file(STRINGS "${COMPONENTS}" lines)
set(index 1)
foreach(line IN LISTS lines)
  string(REPLACE "|" ";" fields "${line}")
  list(LENGTH fields count)
  if(NOT count EQUAL 4)
    message(FATAL_ERROR "write_sbom: bad component line '${line}'")
  endif()
  list(GET fields 0 name)
  list(GET fields 1 version)
  list(GET fields 2 license)
  list(GET fields 3 origin)
  spdx_id("${name}" id)
  spdx_package(package "${id}" "${name}" "${version}" "${license}" LIBRARY)
  string(JSON package SET "${package}" supplier "\"Organization: Debian\"")
  string(JSON package SET "${package}" sourceInfo "\"${origin}\"")
  string(JSON doc SET "${doc}" packages ${index} "${package}")
  string(JSON doc SET "${doc}" relationships ${index}
    "{\"spdxElementId\":\"${self_id}\",\"relationshipType\":\"STATIC_LINK\",\"relatedSpdxElement\":\"${id}\"}")
  math(EXPR index "${index} + 1")
endforeach()

file(WRITE "${OUTPUT}.tmp" "${doc}\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
