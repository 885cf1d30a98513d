// Hardhat 2 configuration: compiles contracts/ with the npm solc (WebAssembly) offline and
// runs a local node (`npx hardhat node --hostname 127.0.0.1`, chain id 31337).
//
// Why the subtask override: Hardhat normally downloads a native solc build list and binary;
// these machines reach only the npm and PyPI registries, so we hand it the solcjs module
// that `npm ci` installed. The compiler settings mirror scripts/compile.py (solc 0.8.30,
// cancun, optimizer 200 runs) and both name OpenZeppelin's files @openzeppelin/... (compile.py
// finds them with --include-path node_modules, no remapping), so both produce byte-identical
// bytecode, metadata hash included (tests/contracts/test_hardhat.py).
"use strict";
const path = require("path");
const { subtask } = require("hardhat/config");
const { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } = require("hardhat/builtin-tasks/task-names");

const OUT = process.env.CHAINARB_HARDHAT_OUT;
const SOLC_VERSION = "0.8.30";
const SOLC_LONG_VERSION = "0.8.30+commit.73712a01";

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args, hre, runSuper) => {
  if (args.solcVersion !== SOLC_VERSION) {
    // Only the npm solc is available offline; any other version would need a download.
    return runSuper();
  }
  return {
    compilerPath: require.resolve("solc/soljson.js"),
    isSolcJs: true,
    version: SOLC_VERSION,
    longVersion: SOLC_LONG_VERSION,
  };
});

/** @type import('hardhat/config').HardhatUserConfig */
module.exports = {
  solidity: {
    version: SOLC_VERSION,
    settings: {
      evmVersion: "cancun",
      optimizer: { enabled: true, runs: 200 },
    },
  },
  paths: {
    sources: "./contracts",
    tests: "./tests/hardhat",
    // CHAINARB_HARDHAT_OUT moves cache and artifacts elsewhere: tests and slither use a
    // private directory so concurrent runs in one working tree never share a cache.
    cache: OUT ? path.join(OUT, "cache") : "./cache",
    artifacts: OUT ? path.join(OUT, "artifacts") : "./artifacts-hardhat",
  },
  networks: {
    hardhat: {
      chainId: 31337,
      hardfork: "cancun",
    },
  },
};
