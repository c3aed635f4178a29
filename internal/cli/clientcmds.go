package cli

import "github.com/spf13/cobra"

// clientCommands are the commands on blob objects and stakes beyond store, read, status,
// list, delete, extend, health and stake.
func clientCommands(ce *clientEnv) []*cobra.Command {
	return []*cobra.Command{
		shareCommand(ce), fundSharedBlobCommand(ce), burnBlobsCommand(ce),
		getBlobAttributeCommand(ce), setBlobAttributeCommand(ce), removeBlobAttributeCommand(ce), removeBlobAttributeFieldsCommand(ce),
		requestWithdrawStakeCommand(ce), withdrawStakeCommand(ce), listStakedWalCommand(ce),
		storeQuiltCommand(ce), readQuiltCommand(ce), listPatchesCommand(ce),
	}
}
